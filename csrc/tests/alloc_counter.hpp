// Counts heap allocations made through global operator new (include in exactly one .cpp of an
// executable). Used to prove the pulse chain's no-allocation-per-frame contract.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace rppg_test {
inline std::atomic<std::size_t> g_allocations{0};
inline std::size_t allocations() { return g_allocations.load(std::memory_order_relaxed); }
}  // namespace rppg_test

void* operator new(std::size_t size) {
  rppg_test::g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  rppg_test::g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
