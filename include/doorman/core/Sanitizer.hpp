#pragma once
// Marking memory that doorman keeps for reuse as unusable under AddressSanitizer, so
// that a use after release is still reported; no-ops in other builds.

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DOORMAN_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(DOORMAN_ASAN)
#define DOORMAN_ASAN 1
#endif

#ifdef DOORMAN_ASAN
#include <sanitizer/asan_interface.h>
#define DOORMAN_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define DOORMAN_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define DOORMAN_POISON(p, n) ((void)(p), (void)(n))
#define DOORMAN_UNPOISON(p, n) ((void)(p), (void)(n))
#endif
