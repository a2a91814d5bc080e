//go:build !amd64

package mm

func spinPause() {}
