package main

// Scenarios are registered in init functions of the files beside this one,
// one file per scenario.
