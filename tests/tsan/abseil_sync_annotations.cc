// ThreadSanitizer cannot see absl::Mutex, absl::CondVar or absl::Notification
// in Debian's Abseil: the library is not built with TSan, so its lock words
// and futex waits establish no happens-before edges, and every access
// guarded by one is reported as a race. Building Abseil with TSan is not an
// option (every dependency is a Debian package), so the TSan build links
// this file into its test binaries: it defines the synchronisation entry
// points itself, which takes precedence over the shared library's for every
// caller (the executable's symbols are searched first), calls the
// library's own through dlsym(RTLD_NEXT), and tells TSan what each did
// (a lock acquires the mutex's address, an unlock releases it, a wait
// releases and re-acquires it). Races on data guarded by these primitives
// are then reported as TSan reports races behind pthread mutexes.
//
// Only in the LEADFLOW_TSAN build (tests/CMakeLists.txt).
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace {

// The library's definition of a symbol this file also defines.
template <typename Fn>
Fn Next(const char* mangled) {
  void* found = dlsym(RTLD_NEXT, mangled);
  if (found == nullptr) {
    std::fprintf(stderr, "tsan annotations: %s not found in Abseil: %s\n", mangled, dlerror());
    std::abort();
  }
  return reinterpret_cast<Fn>(found);
}

// Mangled names are those of Abseil's inline namespace in Debian 12
// (absl::debian3); a different Abseil fails loudly above, not silently.
#define LEADFLOW_ABSL_NS "4absl7debian3"

void Acquire(const void* address) { __tsan_acquire(const_cast<void*>(address)); }
void Release(const void* address) { __tsan_release(const_cast<void*>(address)); }

// A condition is evaluated inside the library, by the waiter or by
// whichever thread unlocks, always with the mutex held: the evaluation
// acquires the mutex before reading and releases it after, so what it read
// happens before the next holder's writes.
struct AnnotatedCondition {
  const absl::Condition* condition;
  const absl::Mutex* mu;

  static bool Eval(void* self) {
    const auto* annotated = static_cast<const AnnotatedCondition*>(self);
    Acquire(annotated->mu);
    const bool holds = annotated->condition->Eval();
    Release(annotated->mu);
    return holds;
  }
  absl::Condition Wrapped() { return absl::Condition(&AnnotatedCondition::Eval, this); }
};

}  // namespace

namespace absl {

void Mutex::Lock() {
  static const auto next = Next<void (*)(Mutex*)>("_ZN" LEADFLOW_ABSL_NS "5Mutex4LockEv");
  next(this);
  Acquire(this);
}

void Mutex::ReaderLock() {
  static const auto next = Next<void (*)(Mutex*)>("_ZN" LEADFLOW_ABSL_NS "5Mutex10ReaderLockEv");
  next(this);
  Acquire(this);
}

bool Mutex::TryLock() {
  static const auto next = Next<bool (*)(Mutex*)>("_ZN" LEADFLOW_ABSL_NS "5Mutex7TryLockEv");
  const bool locked = next(this);
  if (locked) Acquire(this);
  return locked;
}

bool Mutex::ReaderTryLock() {
  static const auto next = Next<bool (*)(Mutex*)>("_ZN" LEADFLOW_ABSL_NS "5Mutex13ReaderTryLockEv");
  const bool locked = next(this);
  if (locked) Acquire(this);
  return locked;
}

void Mutex::Unlock() {
  static const auto next = Next<void (*)(Mutex*)>("_ZN" LEADFLOW_ABSL_NS "5Mutex6UnlockEv");
  Release(this);
  next(this);
}

void Mutex::ReaderUnlock() {
  static const auto next = Next<void (*)(Mutex*)>("_ZN" LEADFLOW_ABSL_NS "5Mutex12ReaderUnlockEv");
  Release(this);
  next(this);
}

void Mutex::LockWhen(const Condition& cond) {
  static const auto next = Next<void (*)(Mutex*, const Condition&)>(
      "_ZN" LEADFLOW_ABSL_NS "5Mutex8LockWhenERKNS0_9ConditionE");
  next(this, AnnotatedCondition{&cond, this}.Wrapped());
  Acquire(this);
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  static const auto next = Next<void (*)(Mutex*, const Condition&)>(
      "_ZN" LEADFLOW_ABSL_NS "5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  next(this, AnnotatedCondition{&cond, this}.Wrapped());
  Acquire(this);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, absl::Duration timeout) {
  static const auto next = Next<bool (*)(Mutex*, const Condition&, absl::Duration)>(
      "_ZN" LEADFLOW_ABSL_NS "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  const bool result = next(this, AnnotatedCondition{&cond, this}.Wrapped(), timeout);
  Acquire(this);
  return result;
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, absl::Time deadline) {
  static const auto next = Next<bool (*)(Mutex*, const Condition&, absl::Time)>(
      "_ZN" LEADFLOW_ABSL_NS "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  const bool result = next(this, AnnotatedCondition{&cond, this}.Wrapped(), deadline);
  Acquire(this);
  return result;
}

void Mutex::Await(const Condition& cond) {
  static const auto next = Next<void (*)(Mutex*, const Condition&)>(
      "_ZN" LEADFLOW_ABSL_NS "5Mutex5AwaitERKNS0_9ConditionE");
  Release(this);
  next(this, AnnotatedCondition{&cond, this}.Wrapped());
  Acquire(this);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, absl::Duration timeout) {
  static const auto next = Next<bool (*)(Mutex*, const Condition&, absl::Duration)>(
      "_ZN" LEADFLOW_ABSL_NS "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  Release(this);
  const bool result = next(this, AnnotatedCondition{&cond, this}.Wrapped(), timeout);
  Acquire(this);
  return result;
}

bool Mutex::AwaitWithDeadline(const Condition& cond, absl::Time deadline) {
  static const auto next = Next<bool (*)(Mutex*, const Condition&, absl::Time)>(
      "_ZN" LEADFLOW_ABSL_NS "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  Release(this);
  const bool result = next(this, AnnotatedCondition{&cond, this}.Wrapped(), deadline);
  Acquire(this);
  return result;
}

void CondVar::Wait(Mutex* mu) {
  static const auto next =
      Next<void (*)(CondVar*, Mutex*)>("_ZN" LEADFLOW_ABSL_NS "7CondVar4WaitEPNS0_5MutexE");
  Release(mu);
  next(this, mu);
  Acquire(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, absl::Duration timeout) {
  static const auto next = Next<bool (*)(CondVar*, Mutex*, absl::Duration)>(
      "_ZN" LEADFLOW_ABSL_NS "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  Release(mu);
  const bool result = next(this, mu, timeout);
  Acquire(mu);
  return result;
}

bool CondVar::WaitWithDeadline(Mutex* mu, absl::Time deadline) {
  static const auto next = Next<bool (*)(CondVar*, Mutex*, absl::Time)>(
      "_ZN" LEADFLOW_ABSL_NS "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  Release(mu);
  const bool result = next(this, mu, deadline);
  Acquire(mu);
  return result;
}

void Notification::Notify() {
  static const auto next =
      Next<void (*)(Notification*)>("_ZN" LEADFLOW_ABSL_NS "12Notification6NotifyEv");
  Release(this);
  next(this);
}

void Notification::WaitForNotification() const {
  static const auto next = Next<void (*)(const Notification*)>(
      "_ZNK" LEADFLOW_ABSL_NS "12Notification19WaitForNotificationEv");
  next(this);
  Acquire(this);
}

bool Notification::WaitForNotificationWithTimeout(absl::Duration timeout) const {
  static const auto next = Next<bool (*)(const Notification*, absl::Duration)>(
      "_ZNK" LEADFLOW_ABSL_NS "12Notification30WaitForNotificationWithTimeoutENS0_8DurationE");
  const bool notified = next(this, timeout);
  if (notified) Acquire(this);
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(absl::Time deadline) const {
  static const auto next = Next<bool (*)(const Notification*, absl::Time)>(
      "_ZNK" LEADFLOW_ABSL_NS "12Notification31WaitForNotificationWithDeadlineENS0_4TimeE");
  const bool notified = next(this, deadline);
  if (notified) Acquire(this);
  return notified;
}

}  // namespace absl
