// Command etcd is etcd's own server main, built from the Go module proxy for
// the local fleet and envtest.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
