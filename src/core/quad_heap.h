// A 4-ary min-heap of pointers whose elements store their own slot index (intrusive).
//
// Why 4-ary: a timer heap is mostly "insert near the bottom" and "pop the top". A 4-ary heap
// is half as deep as a binary one, so sift-up (insert, re-add with a later deadline) touches
// half the levels, and sift-down compares four siblings that sit next to each other in the
// array. With 100 000 timers the depth is 9 instead of 17. The array holds only pointers
// (8 bytes per pending timer, like libevent), the keys are read from the elements.
//
// Hooks supplies: static bool less(const T *a, const T *b) (a strict weak order; callers
// put a FIFO sequence into it to break ties) and static int &index(T *) (the stored slot,
// -1 when not in the heap). Invariant: for every element e in the heap, a_[index(e)] == e.
#pragma once

#include "core/mm.h"

namespace reevent::core {

template <class T, class Hooks>
class QuadHeap {
public:
    QuadHeap() noexcept = default;
    QuadHeap(const QuadHeap &) = delete;
    QuadHeap &operator=(const QuadHeap &) = delete;

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

    void clear() noexcept {
        for (T *e : a_) Hooks::index(e) = -1;
        a_.clear();
    }
    void reset() noexcept {
        clear();
        a_.reset();
    }

private:
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
            const size_t p = (i - 1) / 4;
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
            size_t p = (i - 1) / 4;
            if (!Hooks::less(e, a_[p])) break;
            place(i, a_[p]);
            i = p;
        }
        place(i, e);
    }

    void sift_down(size_t i, T *e) noexcept {
        const size_t n = a_.size();
        for (;;) {
            const size_t c = 4 * i + 1;
            size_t best;
            if (c + 3 < n) {
                // Four children (all but the last parent): the least in three comparisons,
                // two pairs and their winners, without a loop.
                const size_t b0 = Hooks::less(a_[c + 1], a_[c]) ? c + 1 : c;
                const size_t b1 = Hooks::less(a_[c + 3], a_[c + 2]) ? c + 3 : c + 2;
                best = Hooks::less(a_[b1], a_[b0]) ? b1 : b0;
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
