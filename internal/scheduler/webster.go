/*
Copyright 2026 The Argosy Authors.

Licensed under the Apache License, Version 2.0.
*/

package scheduler

import (
	"math/bits"
)

// Weighted is one participant of a division by weights.
type Weighted struct {
	// Name identifies the participant; it feeds the tie-breaking hash.
	Name string
	// Weight is the participant's share; 0 or less gets nothing.
	Weight int64
	// Current is what the participant holds now. Among equally entitled
	// participants, those that already hold a replica keep it, so that an
	// unchanged input never moves replicas.
	Current int32
}

// DivideByWeights divides total replicas in proportion to the weights with
// the Webster (Sainte-Laguë) method and returns the shares, aligned with
// items.
//
// Webster is a highest-averages method: the k-th replica of a participant
// with weight w has priority w/(2k-1), and the total replicas go to the
// total highest priorities. Compared with largest remainders (Hamilton),
// which Karmada uses, it never takes a replica from a participant when the
// total grows (house monotonicity, so scaling up never moves replicas) and
// does not systematically favour large or small participants. 9 replicas at
// 1:3 give 2:7, and 2 replicas at 2:1 give 1:1.
//
// Ties between equal priorities are broken, in order, by Current (a held
// replica wins, for steadiness) and by a hash of (seed, name, k). The hash
// varies with k, so the same name does not win every tie, and with seed, so
// that different workloads (seed = the workload's identity) favour different
// participants. Because the order of all claims is fixed independently of
// total, the result for total+1 always contains the result for total.
//
// If every weight is 0 nothing is assigned and the shares sum to less than
// total; callers decide what that means.
func DivideByWeights(total int32, items []Weighted, seed string) []int32 {
	s := make([]share, len(items))
	base := seedHash(seed)
	for i, it := range items {
		s[i] = share{name: it.Name, weight: uint64(max(it.Weight, 0)), current: it.Current, tie: nameHash(base, it.Name), limit: -1}
	}
	var sc scratch
	sc.apportion(total, s)
	out := make([]int32, len(items))
	for i := range s {
		out[i] = s[i].n
	}
	return out
}

// share is one participant of apportion.
type share struct {
	name    string
	weight  uint64
	current int32
	tie     uint64
	// limit caps n (-1: no cap). See apportion.
	limit int32
	// n is the result.
	n int32
}

// apportion sets s[i].n to the Webster apportionment of total over s.
//
// It starts from the rounding with the standard divisor, n = round(w*total/W),
// which is exactly the set of claims whose priority is at least W/(2*total),
// and then adds the best missing claims or drops the worst held ones until
// the sum is total. The rounding is off by at most about half the number of
// participants, so the cost is O(n log n) however large total is, and the
// arithmetic is exact (128-bit products), with no floating-point drift.
//
// Participants with a limit >= 0 get at most limit: apportionment is repeated
// without the capped participants and the replicas they cannot take. This is
// used to keep clusters that may not receive new replicas at their current
// count.
func (sc *scratch) apportion(total int32, s []share) {
	for i := range s {
		s[i].n = 0
	}
	if total <= 0 || len(s) == 0 {
		return
	}
	active := sc.active[:0]
	defer func() { sc.active = active[:0] }()
	for i := range s {
		if s[i].weight > 0 && s[i].limit != 0 {
			active = append(active, int32(i))
		}
	}
	for len(active) > 0 {
		sc.divide(total, s, active)
		next := active[:0]
		capped := false
		for _, i := range active {
			if l := s[i].limit; l >= 0 && s[i].n > l {
				// Fixed at its cap; the rest is divided again without it.
				s[i].n = l
				total -= l
				capped = true
				continue
			}
			next = append(next, i)
		}
		if !capped {
			return
		}
		for _, i := range next {
			s[i].n = 0
		}
		active = next
		if total <= 0 {
			return
		}
	}
}

// scratch holds buffers that apportion reuses between calls, so that a
// scheduling decision does not allocate them anew.
type scratch struct {
	active, heap []int32
}

// divide runs Webster for total over the participants in idx (all with
// weight > 0).
func (sc *scratch) divide(total int32, s []share, idx []int32) {
	sum := scaleWeights(s, idx)
	for _, i := range idx {
		hi, lo := bits.Mul64(s[i].weight, uint64(total))
		q, r := bits.Div64(hi, lo, sum)
		if r >= sum-r {
			q++
		}
		s[i].n = int32(q)
	}
	var assigned int64
	for _, i := range idx {
		assigned += int64(s[i].n)
	}
	if assigned == int64(total) {
		return
	}
	h := claimHeap{s: s, idx: sc.heap[:0]}
	defer func() { sc.heap = h.idx[:0] }()
	if assigned < int64(total) {
		// Add the best next claims (i, n+1).
		h.worstFirst = false
		h.idx = append(h.idx[:0], idx...)
		h.init()
		for ; assigned < int64(total); assigned++ {
			i := h.idx[0]
			s[i].n++
			h.fix0()
		}
		return
	}
	// Drop the worst held claims (i, n).
	h.worstFirst = true
	h.held = true
	for _, i := range idx {
		if s[i].n > 0 {
			h.idx = append(h.idx, i)
		}
	}
	h.init()
	for ; assigned > int64(total); assigned-- {
		i := h.idx[0]
		s[i].n--
		if s[i].n == 0 {
			h.pop0()
		} else {
			h.fix0()
		}
	}
}

// scaleWeights shifts the weights of s[idx] right until their sum fits in
// 62 bits (a positive weight stays at least 1) and returns the sum. Real
// weights never come close; this only guards against overflow on absurd
// input.
func scaleWeights(s []share, idx []int32) uint64 {
	for shift := false; ; shift = true {
		var sum uint64
		overflow := false
		for _, i := range idx {
			if shift {
				s[i].weight = max(s[i].weight>>8, 1)
			}
			var c uint64
			sum, c = bits.Add64(sum, s[i].weight, 0)
			if c != 0 || sum > 1<<62 {
				overflow = true
			}
		}
		if !overflow {
			return sum
		}
	}
}

// better reports whether claim (i, ki) ranks above claim (j, kj): the k-th
// replica of participant i has priority w_i/(2k-1). Equal priorities are
// ordered by whether the claim is held now, then by hash, then by name and
// index, so the order is total and independent of the number of replicas
// being divided.
func better(s []share, i int32, ki int32, j int32, kj int32) bool {
	a, b := &s[i], &s[j]
	// w_i/(2ki-1) > w_j/(2kj-1)  <=>  w_i*(2kj-1) > w_j*(2ki-1)
	lh, ll := bits.Mul64(a.weight, uint64(2*int64(kj)-1))
	rh, rl := bits.Mul64(b.weight, uint64(2*int64(ki)-1))
	if lh != rh {
		return lh > rh
	}
	if ll != rl {
		return ll > rl
	}
	ha, hb := ki <= a.current, kj <= b.current
	if ha != hb {
		return ha
	}
	ta, tb := mix(a.tie^uint64(ki)), mix(b.tie^uint64(kj))
	if ta != tb {
		return ta < tb
	}
	if a.name != b.name {
		return a.name < b.name
	}
	return i < j
}

// claimHeap is a binary heap of participants keyed by their next claim
// (n+1, best first) or their last held claim (n, worst first).
type claimHeap struct {
	s          []share
	idx        []int32
	worstFirst bool
	held       bool
}

func (h *claimHeap) k(i int32) int32 {
	if h.held {
		return h.s[i].n
	}
	return h.s[i].n + 1
}

// above reports whether a belongs above b in the heap.
func (h *claimHeap) above(a, b int32) bool {
	if h.worstFirst {
		return better(h.s, b, h.k(b), a, h.k(a))
	}
	return better(h.s, a, h.k(a), b, h.k(b))
}

func (h *claimHeap) init() {
	for i := len(h.idx)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *claimHeap) fix0() { h.down(0) }

func (h *claimHeap) pop0() {
	last := len(h.idx) - 1
	h.idx[0] = h.idx[last]
	h.idx = h.idx[:last]
	if last > 0 {
		h.down(0)
	}
}

func (h *claimHeap) down(i int) {
	n := len(h.idx)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && h.above(h.idx[r], h.idx[l]) {
			c = r
		}
		if !h.above(h.idx[c], h.idx[i]) {
			return
		}
		h.idx[i], h.idx[c] = h.idx[c], h.idx[i]
		i = c
	}
}

// seedHash and nameHash are FNV-1a; mix is the splitmix64 finalizer, which
// spreads nearby inputs (k, k+1) over the whole range.
func seedHash(seed string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(seed); i++ {
		h ^= uint64(seed[i])
		h *= 1099511628211
	}
	return h
}

func nameHash(seed uint64, name string) uint64 {
	h := seed ^ 0xff // separates seed "ab"+name "c" from seed "a"+name "bc"
	h *= 1099511628211
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= 1099511628211
	}
	return mix(h)
}

func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
