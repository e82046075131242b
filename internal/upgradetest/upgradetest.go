// Package upgradetest holds the upgrade test: it builds a program against
// the previous release, pinned by the git tag in PreviousTag, lets it write
// a registry and an alert database, and checks that this version opens
// (migrating forward) and reads all of it back.
//
// The program is testdata/writer/main.go. It uses only the APIs of the
// pinned release and is compiled in a copy of that release's tree (git
// archive), so the data on disk is exactly what that release writes. When
// a new release is tagged, move PreviousTag to it and adapt the writer to
// that release's APIs (docs/operations.md, "Upgrades").
package upgradetest

// PreviousTag is the release the upgrade test starts from, and
// PreviousCommit the commit that tag names. The test uses the tag when the
// clone has it and checks that it still names PreviousCommit; a clone
// without tags (the submission of a branch may not carry them) builds the
// same commit, which every clone of main has in its history.
const (
	PreviousTag    = "v0.1.0"
	PreviousCommit = "c40d4227394cafdf1eebe243742e3621bc60ecbd"
)
