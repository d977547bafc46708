#pragma once

// Result<T>: a value or the Status explaining why there is none (Mesos
// stout's Try<T>). A Result never holds an OK status.

#include <cstdlib>
#include <iostream>
#include <type_traits>
#include <utility>
#include <variant>

#include "agora/common/status.hpp"

namespace agora {

template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::decay_t<T>, Status>, "Result<Status> makes no sense");

 public:
  Result(const T& value) : state_(value) {}            // NOLINT(google-explicit-constructor)
  Result(T&& value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Status status) : state_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(state_).ok()) {
      std::cerr << "Result constructed from an OK status" << std::endl;
      std::abort();
    }
  }

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  // Precondition: ok(). Checked: a wrong call aborts with the error.
  const T& value() const& { return checked(); }
  T& value() & { return checked(); }
  T&& value() && { return std::move(checked()); }

  const T& operator*() const& { return checked(); }
  T& operator*() & { return checked(); }
  const T* operator->() const { return &checked(); }
  T* operator->() { return &checked(); }

  // OK when ok(), the error otherwise.
  Status status() const { return ok() ? Status::OK() : std::get<Status>(state_); }
  const Status& error() const& { return std::get<Status>(state_); }

  template <typename U>
  T valueOr(U&& fallback) const& {
    return ok() ? std::get<T>(state_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  T& checked() {
    if (!ok()) die();
    return std::get<T>(state_);
  }
  const T& checked() const {
    if (!ok()) die();
    return std::get<T>(state_);
  }
  [[noreturn]] void die() const {
    std::cerr << "Result::value() on an error: " << std::get<Status>(state_) << std::endl;
    std::abort();
  }

  std::variant<T, Status> state_;
};

}  // namespace agora

#define AGORA_CONCAT_INNER(a, b) a##b
#define AGORA_CONCAT(a, b) AGORA_CONCAT_INNER(a, b)

// AGORA_ASSIGN_OR_RETURN(auto x, computeX());
// Declares `x` from a Result, or returns its error from the enclosing function.
#define AGORA_ASSIGN_OR_RETURN(lhs, expr) \
  AGORA_ASSIGN_OR_RETURN_IMPL(AGORA_CONCAT(_agora_result_, __LINE__), lhs, expr)
#define AGORA_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.error();                \
  lhs = std::move(tmp).value()
