# `cmake --install` puts the framework SDK where an outside project finds it
# with find_package(Agora) (cmake/AgoraConfig.cmake.in): the static
# libraries agora_sdk, agora_common and agora_proto, their public headers
# (framework-sdk/include, common/include, the generated *.pb.h), and the
# package config under lib/cmake/Agora.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS agora_sdk agora_common agora_proto ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/framework-sdk/include/ ${PROJECT_SOURCE_DIR}/common/include/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_BINARY_DIR}/proto/agora DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.pb.h")

configure_file(${CMAKE_CURRENT_LIST_DIR}/AgoraConfig.cmake.in ${PROJECT_BINARY_DIR}/AgoraConfig.cmake @ONLY)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/AgoraConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/AgoraConfig.cmake ${PROJECT_BINARY_DIR}/AgoraConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Agora)
