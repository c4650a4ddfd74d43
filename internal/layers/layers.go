// Package layers holds the test that guards murmur's import direction (see
// the design map, "Layers and import direction"). It has no code of its own.
package layers
