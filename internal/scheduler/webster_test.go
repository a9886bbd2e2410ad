/*
Copyright 2026 The Argosy Authors.

Licensed under the Apache License, Version 2.0.
*/

package scheduler

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func weights(ws ...int64) []Weighted {
	out := make([]Weighted, len(ws))
	for i, w := range ws {
		out[i] = Weighted{Name: fmt.Sprintf("member%d", i+1), Weight: w}
	}
	return out
}

func TestDivideByWeights(t *testing.T) {
	tests := []struct {
		name  string
		total int32
		items []Weighted
		want  []int32
	}{
		{"9 at 1:3", 9, weights(1, 3), []int32{2, 7}},
		{"9 at 1:2", 9, weights(1, 2), []int32{3, 6}},
		{"2 at 2:1", 2, weights(2, 1), []int32{1, 1}},
		{"2 at 1:1", 2, weights(1, 1), []int32{1, 1}},
		{"7 at 5:3:2", 7, weights(5, 3, 2), []int32{4, 2, 1}},
		{"12 at 6:12:18 (the API doc's example)", 12, weights(6, 12, 18), []int32{2, 4, 6}},
		{"zero total", 0, weights(1, 3), []int32{0, 0}},
		{"zero weight gets nothing", 5, weights(0, 1, 1), nil},
		{"all weights zero", 5, weights(0, 0), []int32{0, 0}},
		{"negative weight is zero", 4, weights(-5, 1), []int32{0, 4}},
		{"huge weights do not overflow", 3, weights(math.MaxInt64, math.MaxInt64, 1), nil},
		{"large total is exact", math.MaxInt32, weights(1, 1, 1), nil},
		{"empty", 5, nil, []int32{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DivideByWeights(tt.total, tt.items, "seed")
			var s int64
			for _, n := range got {
				s += int64(n)
			}
			anyPositive := slices.ContainsFunc(tt.items, func(w Weighted) bool { return w.Weight > 0 })
			if anyPositive && s != int64(tt.total) {
				t.Fatalf("shares %v sum to %d, want %d", got, s, tt.total)
			}
			if len(tt.want) > 0 && !slices.Equal(got, tt.want) {
				t.Fatalf("DivideByWeights(%d, %v) = %v, want %v", tt.total, tt.items, got, tt.want)
			}
			for i, it := range tt.items {
				if it.Weight <= 0 && got[i] != 0 {
					t.Errorf("%s has weight %d but got %d", it.Name, it.Weight, got[i])
				}
			}
		})
	}
}

// TestDivideByWeightsZeroWeight checks the zero-weight case precisely: the
// tie between the two equal clusters goes one way or the other.
func TestDivideByWeightsZeroWeight(t *testing.T) {
	got := DivideByWeights(5, weights(0, 1, 1), "")
	if got[0] != 0 || got[1]+got[2] != 5 || min(got[1], got[2]) != 2 {
		t.Fatalf("got %v, want 0 and a 3/2 split", got)
	}
}

// TestDivideByWeightsNoAlabamaParadox uses the textbook case where largest
// remainders (Hamilton) takes a seat away when the house grows: 6:6:2 gives
// 4:4:2 for 10 and 5:5:1 for 11.
func TestDivideByWeightsNoAlabamaParadox(t *testing.T) {
	prev := DivideByWeights(10, weights(6, 6, 2), "")
	next := DivideByWeights(11, weights(6, 6, 2), "")
	for i := range prev {
		if next[i] < prev[i] {
			t.Fatalf("10 -> %v, 11 -> %v: cluster %d lost a replica", prev, next, i)
		}
	}
}

func TestDivideByWeightsTiesFollowCurrent(t *testing.T) {
	for _, holder := range []int{0, 1, 2} {
		items := weights(1, 1, 1)
		items[holder].Current = 1
		got := DivideByWeights(1, items, "any")
		if got[holder] != 1 {
			t.Errorf("current holder %d: got %v, want the replica to stay", holder, got)
		}
	}
	// 5 at 1:1 is a tie for the 5th replica; whoever holds 3 keeps them.
	for _, holder := range []int{0, 1} {
		items := weights(1, 1)
		items[holder].Current = 3
		items[1-holder].Current = 2
		got := DivideByWeights(5, items, "x")
		if got[holder] != 3 {
			t.Errorf("holder %d: got %v", holder, got)
		}
	}
}

// TestDivideByWeightsHouseMonotone is the property that makes steady scaling
// possible: for random weights, adding a replica never takes one away.
func TestDivideByWeightsHouseMonotone(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 300; round++ {
		n := 1 + rng.IntN(12)
		items := make([]Weighted, n)
		for i := range items {
			w := int64(rng.IntN(20))
			if rng.IntN(4) == 0 {
				w = int64(rng.IntN(1_000_000))
			}
			items[i] = Weighted{Name: fmt.Sprintf("c%d", rng.IntN(1000)), Weight: w}
			if rng.IntN(3) == 0 {
				items[i].Current = int32(rng.IntN(5))
			}
		}
		if !slices.ContainsFunc(items, func(w Weighted) bool { return w.Weight > 0 }) {
			items[0].Weight = 1
		}
		seed := fmt.Sprint(round)
		prev := DivideByWeights(0, items, seed)
		for total := int32(1); total <= 60; total++ {
			got := DivideByWeights(total, items, seed)
			var s int32
			for i := range got {
				s += got[i]
				if got[i] < prev[i] {
					t.Fatalf("weights %v: total %d gives %v, total %d gave %v", items, total, got, total-1, prev)
				}
			}
			if s != total {
				t.Fatalf("weights %v: total %d gives %v (sum %d)", items, total, got, s)
			}
			prev = got
		}
	}
}

// TestDivideByWeightsConsistent: when a participant leaves, the others only
// gain (what makes "a cluster left" move only that cluster's replicas).
func TestDivideByWeightsConsistent(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := 0; round < 300; round++ {
		n := 2 + rng.IntN(8)
		items := make([]Weighted, n)
		for i := range items {
			items[i] = Weighted{Name: fmt.Sprintf("c%d", i), Weight: 1 + int64(rng.IntN(10))}
		}
		total := int32(1 + rng.IntN(50))
		before := DivideByWeights(total, items, "s")
		for i := range items {
			items[i].Current = before[i]
		}
		gone := rng.IntN(n)
		rest := slices.Delete(slices.Clone(items), gone, gone+1)
		after := DivideByWeights(total, rest, "s")
		for i, j := 0, 0; i < n; i++ {
			if i == gone {
				continue
			}
			if after[j] < before[i] {
				t.Fatalf("%v at %d = %v; without %d: %v", items, total, before, gone, after)
			}
			j++
		}
	}
}

// TestDivideByWeightsOrderIndependent: permuting the input permutes the
// output and changes nothing else.
func TestDivideByWeightsOrderIndependent(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for round := 0; round < 200; round++ {
		items := make([]Weighted, 2+rng.IntN(8))
		for i := range items {
			items[i] = Weighted{Name: fmt.Sprintf("c%d", i), Weight: 1 + int64(rng.IntN(3))}
		}
		total := int32(rng.IntN(30))
		want := map[string]int32{}
		for i, n := range DivideByWeights(total, items, "w") {
			want[items[i].Name] = n
		}
		rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
		for i, n := range DivideByWeights(total, items, "w") {
			if want[items[i].Name] != n {
				t.Fatalf("order matters: %v", items)
			}
		}
	}
}

// TestDivideByWeightsNoNameBias: among equal weights, who gets the odd
// replica depends on the workload (seed) and not on the names: every
// cluster wins about as often, whatever its name sorts like.
func TestDivideByWeightsNoNameBias(t *testing.T) {
	for _, names := range [][]string{
		{"a", "b", "c"},
		{"member1", "member2", "member3"},
		{"zzz", "aaa", "mmm"},
	} {
		items := make([]Weighted, len(names))
		for i, n := range names {
			items[i] = Weighted{Name: n, Weight: 1}
		}
		wins := make([]int, len(names))
		const runs = 3000
		for s := 0; s < runs; s++ {
			got := DivideByWeights(4, items, fmt.Sprintf("default/workload-%d", s))
			for i, n := range got {
				if n == 2 {
					wins[i]++
				}
			}
		}
		for i, w := range wins {
			if w < runs/4 || w > runs*5/12 {
				t.Errorf("names %v: %s won the tie %d of %d times, want about a third", names, names[i], w, runs)
			}
		}
	}
	// Within one workload, the k-th tie is not always won by the same name:
	// 3 equal clusters with totals 1..30 should see each cluster lead.
	items := weights(1, 1, 1)
	led := map[int]bool{}
	for total := int32(1); total <= 30; total += 3 {
		got := DivideByWeights(total, items, "one-workload")
		led[slices.Index(got, slices.Max(got))] = true
	}
	if len(led) < 2 {
		t.Errorf("the same cluster wins every tie of one workload")
	}
}

func BenchmarkDivideByWeights(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		items := make([]Weighted, n)
		rng := rand.New(rand.NewPCG(7, 8))
		for i := range items {
			items[i] = Weighted{Name: fmt.Sprintf("member%d", i), Weight: 1 + int64(rng.IntN(100))}
		}
		b.Run(fmt.Sprintf("clusters=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				DivideByWeights(int32(10*n+7), items, "bench")
			}
		})
	}
}

// TestApportionLimits: capped participants never exceed their cap, the
// others absorb the rest in proportion, and nothing is lost while there is
// room.
func TestApportionLimits(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	var sc scratch
	for round := 0; round < 500; round++ {
		n := 1 + rng.IntN(8)
		s := make([]share, n)
		room := int64(0)
		unlimited := false
		for i := range s {
			s[i] = share{name: fmt.Sprint(i), weight: uint64(1 + rng.IntN(9)), tie: uint64(rng.Int64()), limit: -1}
			if rng.IntN(3) == 0 {
				s[i].limit = int32(rng.IntN(4))
				room += int64(s[i].limit)
			} else {
				unlimited = true
			}
		}
		total := int32(rng.IntN(40))
		sc.apportion(total, s)
		var got int64
		for i := range s {
			if s[i].limit >= 0 && s[i].n > s[i].limit {
				t.Fatalf("share %d over its limit: %+v", i, s)
			}
			got += int64(s[i].n)
		}
		want := int64(total)
		if !unlimited {
			want = min(want, room)
		}
		if got != want {
			t.Fatalf("total %d placed %d, want %d: %+v", total, got, want, s)
		}
	}
	// Without caps it is plain Webster.
	s := []share{{name: "a", weight: 1, limit: -1}, {name: "b", weight: 3, limit: 1}}
	sc.apportion(9, s)
	if s[0].n != 8 || s[1].n != 1 {
		t.Fatalf("9 at 1:3 with b capped at 1 = %d:%d, want 8:1", s[0].n, s[1].n)
	}
}
