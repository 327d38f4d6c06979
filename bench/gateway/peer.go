// peer.go - the gateway in Go's net/http, for bench/gateway.sh: GET /path
// awaits GET UPSTREAM/path through one shared http.Client and streams the
// status, Content-Type and body back.  Run with GOMAXPROCS=1.
//
//	go run peer.go -upstream http://127.0.0.1:8081 -listen 127.0.0.1:8082
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
)

func main() {
	upstream := flag.String("upstream", "", "http://HOST:PORT")
	listen := flag.String("listen", "127.0.0.1:8082", "ADDR:PORT")
	flag.Parse()
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024}}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		resp, err := client.Get(*upstream + r.URL.RequestURI())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		if t := resp.Header.Get("Content-Type"); t != "" {
			w.Header().Set("Content-Type", t)
		}
		if resp.ContentLength >= 0 {
			w.Header().Set("Content-Length", resp.Header.Get("Content-Length"))
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	})
	log.Fatal(http.ListenAndServe(*listen, nil))
}
