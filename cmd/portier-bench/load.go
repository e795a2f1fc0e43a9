package main

import (
	"context"
	"sort"
	"sync"
	"time"
)

// phase is what one run of a scenario at one concurrency measured on the
// client side.
type phase struct {
	requests, errors int64
	objects          int64 // objects in the good answers
	elapsed          time.Duration
	latencies        []time.Duration // of every request, sorted
	samples          map[string]int  // error message -> count (the first few kinds)
}

const maxErrorKinds = 5

// drive runs conc workers, each sending the scenario's requests one after
// another, until d has passed; requests in flight then are waited for and
// counted.
func drive(ctx context.Context, e *runEnv, sc *scenario, conc int, d time.Duration) *phase {
	p := &phase{samples: map[string]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			var reqs, errs, objs int64
			local := map[string]int{}
			for ctx.Err() == nil && time.Now().Before(deadline) {
				c := sc.next(e, w, e.seq.Add(1))
				t0 := time.Now()
				n, err := e.do(ctx, c)
				lat = append(lat, time.Since(t0))
				reqs++
				if err != nil {
					if ctx.Err() != nil {
						break // interrupted: not the server's error
					}
					errs++
					if len(local) < maxErrorKinds || local[err.Error()] > 0 {
						local[err.Error()]++
					}
					continue
				}
				objs += int64(n)
			}
			mu.Lock()
			defer mu.Unlock()
			p.requests += reqs
			p.errors += errs
			p.objects += objs
			p.latencies = append(p.latencies, lat...)
			for k, v := range local {
				if len(p.samples) < maxErrorKinds || p.samples[k] > 0 {
					p.samples[k] += v
				}
			}
		}()
	}
	wg.Wait()
	p.elapsed = time.Since(start)
	sort.Slice(p.latencies, func(i, j int) bool { return p.latencies[i] < p.latencies[j] })
	return p
}

// percentile is the nearest-rank percentile q (0..1) of sorted latencies.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}
