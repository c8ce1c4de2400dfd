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
    void update(T *e) noexcept {
        size_t i = static_cast<size_t>(Hooks::index(e));
        if (i > 0 && Hooks::less(e, a_[(i - 1) / 4]))
            sift_up(i, e);
        else
            sift_down(i, e);
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
    void erase_at(size_t i) noexcept {
        T *gone = a_[i];
        T *last = a_.back();
        a_.pop_back();
        Hooks::index(gone) = -1;
        if (last == gone) return;
        if (i > 0 && Hooks::less(last, a_[(i - 1) / 4]))
            sift_up(i, last);
        else
            sift_down(i, last);
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
            size_t c = 4 * i + 1;
            if (c >= n) break;
            size_t best = c;
            size_t end = c + 4 < n ? c + 4 : n;
            for (size_t k = c + 1; k < end; ++k)
                if (Hooks::less(a_[k], a_[best])) best = k;
            if (!Hooks::less(a_[best], e)) break;
            place(i, a_[best]);
            i = best;
        }
        place(i, e);
    }

    mm::Vec<T *> a_;
};

}  // namespace reevent::core
