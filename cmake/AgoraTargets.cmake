# Helpers shared by every component's CMakeLists.txt.

# Warnings as errors on our own code (never on generated protobuf code).
function(agora_warnings target)
  # -Wno-restrict: g++ 12 reports false positives on std::string appends
  # at -O3 (GCC bug 105329), in code that has no overlap at all.
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-missing-field-initializers -Wno-restrict)
endfunction()

# agora_library(NAME SOURCES... [DEPS ...])
#   A component library: public headers under include/, private ones beside
#   the sources (Seastar-style public/private separation).
function(agora_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name}
    PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  agora_warnings(${name})
endfunction()

# agora_test(NAME SOURCES... DEPS ...)
#   One GoogleTest executable; every TEST becomes its own ctest entry,
#   discovered when ctest runs (not at build time, which is slow under ASan).
function(agora_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  agora_warnings(${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  gtest_discover_tests(${name}
    DISCOVERY_MODE PRE_TEST
    PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS "${ARG_LABELS}")
endfunction()
