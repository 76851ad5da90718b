// Command pause is the sandbox ("pause") container of bench/kube/e2e.sh's
// cluster: it holds a pod's namespaces by sleeping until it is told to stop
// (SIGINT or SIGTERM), as Kubernetes' own pause does. It is built static
// into a scratch image, so the cluster needs no image from a registry.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
}
