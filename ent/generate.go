// Package ent holds the generated data layer; the schema is in ent/schema.
package ent

//go:generate go run -mod=mod entc.go
