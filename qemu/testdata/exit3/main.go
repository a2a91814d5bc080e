// exit3 ends with os.Exit(3): the host must see status 3.
package main

import (
	"fmt"
	"os"

	_ "hurdvm/kernel"
)

func main() {
	fmt.Println("exiting with status 3")
	os.Exit(3)
}
