// A D-ary min-heap of pointers whose elements store their own slot index (intrusive).
//
// Why wide: a timer heap of 100 000 events is bound by cache misses, one per element whose
// key a sift reads (the keys live in the events, scattered in memory). Each level costs about
// one miss latency, since the D children's keys load in parallel; so the depth is what counts.
// At D = 8 the depth is 6 instead of 9 (D = 4) or 17 (libevent's binary heap), and re-add,
// delete and fire of 100 000 timers measured 15-20 %, 15-20 % and 5 % faster than at D = 4,
// for more comparisons (instructions) per level. The array holds only pointers: 8 bytes per
// pending timer, like libevent.
//
// Hooks supplies: static bool less(const T *a, const T *b) (a strict weak order; callers
// put a FIFO sequence into it to break ties) and static int &index(T *) (the stored slot,
// -1 when not in the heap); optionally static const void *key_line(const T *) (where the
// key lies, for prefetching in extract). Invariant: for every element e in the heap,
// a_[index(e)] == e.
#pragma once

#include "core/mm.h"

namespace reevent::core {

template <class T, class Hooks, size_t D = 8>
class DaryHeap {
    static_assert(D >= 2 && (D & (D - 1)) == 0, "the tournament below wants a power of two");

public:
    DaryHeap() noexcept = default;
    DaryHeap(const DaryHeap &) = delete;
    DaryHeap &operator=(const DaryHeap &) = delete;

    size_t size() const noexcept { return a_.size(); }
    bool empty() const noexcept { return a_.empty(); }
    T *top() const noexcept { return a_.empty() ? nullptr : a_[0]; }
    T *at(size_t i) const noexcept { return a_[i]; }
    [[nodiscard]] bool reserve(size_t n) noexcept { return a_.reserve(n); }
    static bool contains(T *e) noexcept { return Hooks::index(e) >= 0; }

    // false only when memory ran out (the heap is unchanged).
    [[nodiscard]] bool push(T *e) noexcept {
        if (!a_.push_back(e)) return false;
        sift_up(a_.size() - 1, e);
        return true;
    }

    T *pop() noexcept {
        if (a_.empty()) return nullptr;
        T *t = a_[0];
        erase_at(0);
        return t;
    }

    void erase(T *e) noexcept {
        int i = Hooks::index(e);
        if (i < 0) return;
        erase_at(static_cast<size_t>(i));
    }

    // The key of e changed (it must be in the heap): restore the order.
    void update(T *e) noexcept { refill(static_cast<size_t>(Hooks::index(e)), e); }

    // Takes out every element for which take(e) is true, in no particular order: each goes
    // to sink(e) with its index already -1. The rest is rebuilt into a heap in O(n), which
    // beats one O(log n) pop per element when a large part of the heap goes at once.
    template <class Take, class Sink>
    void extract_if(Take take, Sink sink) noexcept {
        extract<true>(take, sink);
    }

    // The same, but the elements taken keep their (stale) index: the caller must set it to
    // -1 before anything reads it. So the sweep, which take() makes read each element's key,
    // writes nothing into the elements it takes (for timers: one cache line each, not two).
    template <class Take, class Sink>
    void extract_if_unmarked(Take take, Sink sink) noexcept {
        extract<false>(take, sink);
    }

    void clear() noexcept {
        for (T *e : a_) Hooks::index(e) = -1;
        a_.clear();
    }
    void reset() noexcept {
        clear();
        a_.reset();
    }

private:
    // How far ahead the sweep of extract prefetches the elements' keys: with Hooks::key_line
    // (the address of the key, in the element), the loads of a few dozen scattered elements
    // are in flight at once instead of the few the out-of-order window reaches.
    static constexpr size_t kSweepAhead = 16;

    template <bool kMark, class Take, class Sink>
    void extract(Take take, Sink sink) noexcept {
        const size_t n = a_.size();
        size_t kept = 0;
        for (size_t i = 0; i < n; ++i) {
            if constexpr (requires(const T *p) { Hooks::key_line(p); }) {
                if (i + kSweepAhead < n) __builtin_prefetch(Hooks::key_line(a_[i + kSweepAhead]));
            }
            T *e = a_[i];
            if (take(e)) {
                if constexpr (kMark) Hooks::index(e) = -1;
                sink(e);
            } else {
                a_[kept++] = e;
            }
        }
        a_.truncate(kept);
        // Floyd's construction: sift down every parent, the last one first.
        for (size_t i = kept; i-- > 0;) {
            if (D * i + 1 < kept)
                sift_down(i, a_[i]);
            else
                Hooks::index(a_[i]) = static_cast<int>(i);
        }
    }

    void erase_at(size_t i) noexcept {
        T *gone = a_[i];
        T *last = a_.back();
        a_.pop_back();
        Hooks::index(gone) = -1;
        if (last != gone) refill(i, last);
    }

    // Puts e into slot i (a hole, or e's own slot after its key changed): it moves up or
    // down, never both, and the comparison with the parent that decides is not repeated.
    void refill(size_t i, T *e) noexcept {
        if (i > 0) {
            const size_t p = (i - 1) / D;
            T *parent = a_[p];
            if (Hooks::less(e, parent)) {
                place(i, parent);
                sift_up(p, e);
                return;
            }
        }
        sift_down(i, e);
    }

    void place(size_t i, T *e) noexcept {
        a_[i] = e;
        Hooks::index(e) = static_cast<int>(i);
    }

    void sift_up(size_t i, T *e) noexcept {
        while (i > 0) {
            size_t p = (i - 1) / D;
            if (!Hooks::less(e, a_[p])) break;
            place(i, a_[p]);
            i = p;
        }
        place(i, e);
    }

    void sift_down(size_t i, T *e) noexcept {
        const size_t n = a_.size();
        for (;;) {
            const size_t c = D * i + 1;
            size_t best;
            if (c + D - 1 < n) {
                // All D children: a knock-out tournament, whose first round's comparisons
                // are independent (their loads overlap).
                size_t w[D / 2];
                for (size_t k = 0; k < D / 2; ++k)
                    w[k] = Hooks::less(a_[c + 2 * k + 1], a_[c + 2 * k]) ? c + 2 * k + 1 : c + 2 * k;
                for (size_t m = D / 2; m > 1; m /= 2)
                    for (size_t k = 0; k < m / 2; ++k)
                        w[k] = Hooks::less(a_[w[2 * k + 1]], a_[w[2 * k]]) ? w[2 * k + 1] : w[2 * k];
                best = w[0];
            } else {
                if (c >= n) break;
                best = c;
                for (size_t k = c + 1; k < n; ++k)
                    if (Hooks::less(a_[k], a_[best])) best = k;
            }
            if (!Hooks::less(a_[best], e)) break;
            place(i, a_[best]);
            i = best;
        }
        place(i, e);
    }

    mm::Vec<T *> a_;
};

}  // namespace reevent::core
