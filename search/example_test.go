package search_test

import (
	"fmt"

	"murmur/search"
)

func ExampleParse() {
	q, err := search.Parse(`is:open label:"good first" crash pars`)
	if err != nil {
		panic(err)
	}
	fmt.Println(q.Terms, q.Prefix, q.States, q.Labels)
	fmt.Println(search.Snippet("The parser crashes on an empty file.", q, 20))
	// Output:
	// [crash pars] true [open] [good first]
	// The parser crashes…
}
