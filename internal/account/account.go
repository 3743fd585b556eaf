// Package account looks up the uid and primary gid of an account name in the
// account database (/etc/passwd; the programs are built without cgo).
package account

import (
	"os/user"
	"strconv"

	"daemontools/internal/strerr"
)

// IDs are an account's numeric user and primary group ids.
type IDs struct{ UID, GID int }

// Lookup finds name, failing with daemontools' "unknown account NAME".
func Lookup(name string) (IDs, error) {
	u, err := user.Lookup(name)
	if err != nil { // daemontools says the same when it cannot read the database
		return IDs{}, strerr.Fatal("unknown account ", name)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return IDs{}, strerr.Fatal("unknown account ", name)
	}
	return IDs{UID: uid, GID: gid}, nil
}
