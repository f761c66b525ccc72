// NACRE_CHECK: an invariant checked in every build (unlike assert(), it is
// not compiled out under NDEBUG). A failed check logs the condition and
// where, then aborts: an invariant that does not hold means the process's
// state can no longer be trusted, and stopping is safer than going on.
// Use it for what the code guarantees itself, never for bad input from the
// wire or the user: those get a Status.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace nacre {

[[noreturn]] inline void CheckFailed(const char* cond, const char* file, int line) {
  std::fprintf(stderr, "invariant failed: %s at %s:%d\n", cond, file, line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace nacre

#define NACRE_CHECK(cond) ((cond) ? (void)0 : ::nacre::CheckFailed(#cond, __FILE__, __LINE__))
