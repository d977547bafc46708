#pragma once

// CHECK for broken internal invariants (a bug, never bad input): prints where
// and why, then aborts. Untrusted input must produce a Status instead
// (Envoy's error-handling policy).

#include <cstdio>
#include <cstdlib>

#define AGORA_CHECK(cond, ...)                                                        \
  do {                                                                                \
    if (!(cond)) [[unlikely]] {                                                       \
      std::fprintf(stderr, "CHECK failed at %s:%d: %s " __VA_OPT__("(%s)") "\n",     \
                   __FILE__, __LINE__, #cond __VA_OPT__(, __VA_ARGS__));              \
      std::abort();                                                                   \
    }                                                                                 \
  } while (false)
