#pragma once

// A non-owning reference to a callable (the C++26 std::function_ref, LLVM's
// function_ref): two pointers, no allocation, one indirect call. For
// visitor parameters in hot paths, where std::function would allocate
// whenever the lambda captures more than two pointers. The referenced
// callable must outlive the call that receives it; never store one.

#include <memory>
#include <type_traits>
#include <utility>

namespace agora {

template <typename Signature>
class FunctionRef;

template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, FunctionRef> && std::is_invocable_r_v<R, F&, Args...>)
  FunctionRef(F&& f) noexcept  // NOLINT(google-explicit-constructor): converts like std::function.
      : object_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_([](void* object, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(object))(std::forward<Args>(args)...);
        }) {}

  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

}  // namespace agora
