package fleet

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
)

// freePorts returns n distinct ports that are free on 127.0.0.1 right now.
//
// They are drawn below the kernel's ephemeral range: a port the kernel hands
// out for ":0" may next be used as the local port of some outgoing
// connection before our server binds it, which a port outside that range
// never is. Each candidate is probed by binding it; the small window between
// probe and use only matters if another fleet picks the same random port at
// the same moment.
func freePorts(n int) ([]int, error) {
	lo, hi := 10000, ephemeralLow()
	if hi-lo < 1000 { // odd kernel settings: let the kernel choose
		return kernelPorts(n)
	}
	ports := make([]int, 0, n)
	seen := map[int]bool{}
	for tries := 0; len(ports) < n; tries++ {
		if tries > 100*n {
			return nil, fmt.Errorf("fleet: no free ports on 127.0.0.1 in [%d,%d)", lo, hi)
		}
		p := lo + rand.IntN(hi-lo)
		if seen[p] {
			continue
		}
		seen[p] = true
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		l.Close()
		ports = append(ports, p)
	}
	return ports, nil
}

func ephemeralLow() int {
	lo, hi := 32768, 60999
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		fmt.Sscanf(string(b), "%d %d", &lo, &hi)
	}
	return lo
}

func kernelPorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		// Held open until all are chosen, so the ports are distinct.
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
