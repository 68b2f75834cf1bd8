// Blocking points: how code that may wait tells a thread that must not.
//
// The server's event loops answer what they can from memory (a cache hit) and must never wait
// on a database, a password hash or another thread's load. Code that may wait calls
// blocking_point() before it starts; on a thread inside a NonBlockingScope that throws
// WouldBlock, and the server runs the whole request again on its worker pool, where
// blocking_point() does nothing:
//
//   util::NonBlockingScope on_loop;               // an event loop's thread, for its lifetime
//   ...
//   util::blocking_point();                        // ConnectionPool::acquire(), a cache miss, ...
//
// A request run on a loop must therefore change nothing before its first blocking point that a
// second run would change again (counting a hit or a miss included): the engine and the
// database raise it before they count or touch anything.
//
// WouldBlock is deliberately not a std::exception, so a `catch (const std::exception&)` on its
// way up does not mistake it for a failure; code with a `catch (...)` must rethrow it.
//
// Thread safety: the scope is per thread.
#pragma once

namespace tajir::util {

struct WouldBlock {};

namespace internal {
inline thread_local bool must_not_block = false;
}

// Whether this thread may wait.
inline bool may_block() { return !internal::must_not_block; }

// Throws WouldBlock on a thread that must not wait; does nothing elsewhere.
inline void blocking_point() {
  if (internal::must_not_block) throw WouldBlock{};
}

// Marks this thread as one that must not wait, until the scope ends. Nests.
class NonBlockingScope {
 public:
  NonBlockingScope() : outer_(internal::must_not_block) { internal::must_not_block = true; }
  ~NonBlockingScope() { internal::must_not_block = outer_; }
  NonBlockingScope(const NonBlockingScope&) = delete;
  NonBlockingScope& operator=(const NonBlockingScope&) = delete;

 private:
  bool outer_;
};

}  // namespace tajir::util
