// bench/peers/peers.go - Go's scheduler as a peer (GOMAXPROCS=1, set by
// bench/peers, so that goroutines take turns on one thread as ours do).
//
//	peers [-quick] [-million]   prints one "name value" line per measure:
//	  yield_ns         two goroutines calling runtime.Gosched, per yield
//	  chan_ns          unbuffered channel ping-pong, one way
//	  spawn_join_ns    go f() + waiting for it on a channel
//	  fd_wake_ns       a goroutine parked reading an os.Pipe (the netpoller),
//	                   woken by another's write: half a round trip
//	  million_create_s 1M goroutines started, each run until it blocks on a
//	  million_bytes    channel; RSS growth / 1M (from /proc/self/status)
//
// Each is the median of five rounds (the million: one).  A comparison
// program only.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

func median(v []float64) float64 {
	sort.Float64s(v)
	return v[len(v)/2]
}

func yieldNs(n int) float64 {
	done := make(chan struct{})
	loop := func() {
		for i := 0; i < n; i++ {
			runtime.Gosched()
		}
		done <- struct{}{}
	}
	t0 := time.Now()
	go loop()
	go loop()
	<-done
	<-done
	return float64(time.Since(t0).Nanoseconds()) / float64(2*n)
}

func chanNs(n int) float64 {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	t0 := time.Now()
	for i := 0; i < n; i++ {
		ping <- i
		<-pong
	}
	d := time.Since(t0)
	close(ping)
	return float64(d.Nanoseconds()) / float64(2*n)
}

func spawnJoinNs(n int) float64 {
	done := make(chan struct{})
	f := func() { done <- struct{}{} }
	t0 := time.Now()
	for i := 0; i < n; i++ {
		go f()
		<-done
	}
	return float64(time.Since(t0).Nanoseconds()) / float64(n)
}

func fdWakeNs(n int) float64 {
	ar, aw, err1 := os.Pipe()
	br, bw, err2 := os.Pipe()
	if err1 != nil || err2 != nil {
		fmt.Fprintln(os.Stderr, "pipe:", err1, err2)
		os.Exit(1)
	}
	go func() {
		b := make([]byte, 64) // each read asks for 64 bytes, as bench/sched's
		for {
			k, err := ar.Read(b)
			if err != nil {
				return
			}
			bw.Write(b[:k])
		}
	}()
	b := make([]byte, 64)
	b[0] = 'p'
	t0 := time.Now()
	for i := 0; i < n; i++ {
		aw.Write(b[:1])
		br.Read(b)
	}
	d := time.Since(t0)
	aw.Close()
	ar.Close()
	br.Close()
	bw.Close()
	return float64(d.Nanoseconds()) / float64(2*n)
}

func rssBytes() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb * 1024
		}
	}
	return -1
}

func million(n int) (float64, float64) {
	block := make(chan struct{})
	started := make(chan struct{}, 1)
	rss0 := rssBytes()
	t0 := time.Now()
	for i := 0; i < n; i++ {
		go func() { <-block }()
	}
	// One more, queued behind all the others: when it runs, every one has
	// run once and parked (one P: the run queue is FIFO).
	go func() { started <- struct{}{} }()
	<-started
	secs := time.Since(t0).Seconds()
	per := (rssBytes() - rss0) / float64(n)
	close(block)
	return secs, per
}

func main() {
	quick := flag.Bool("quick", false, "tiny counts: a smoke test")
	mil := flag.Bool("million", false, "also park a million goroutines")
	flag.Parse()
	y, c, s, w := 1000000, 500000, 500000, 100000
	if *quick {
		y, c, s, w = 10000, 10000, 1000, 500
	}
	var a, b, d, e []float64
	for r := 0; r < 5; r++ {
		a = append(a, yieldNs(y))
		b = append(b, chanNs(c))
		d = append(d, spawnJoinNs(s))
		e = append(e, fdWakeNs(w))
	}
	fmt.Printf("yield_ns %.2f\nchan_ns %.2f\nspawn_join_ns %.2f\nfd_wake_ns %.2f\n",
		median(a), median(b), median(d), median(e))
	if *mil {
		n := 1000000
		if *quick {
			n = 2000
		}
		secs, per := million(n)
		fmt.Printf("million_create_s %.3f\nmillion_bytes %.0f\n", secs, per)
	}
}
