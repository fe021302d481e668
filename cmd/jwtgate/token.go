package main

import "io"

// runToken is `jwtgate token inspect TOKEN`.
func runToken(c cmdIO, args []string) error {
	_, err := io.WriteString(c.stdout, "jwtgate token inspect: not implemented yet\n")
	return err
}
