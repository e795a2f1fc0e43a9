package authz

import (
	"context"
	"slices"

	"portier/internal/domain"
	"portier/internal/viewer"
)

// KeyNever are the permissions no API key ever holds, whatever its user
// holds and whatever the key lists: a key never manages API keys.
var KeyNever = []domain.Permission{domain.PermAPIKeysManage}

// narrowToKey cuts the user's grants, just loaded, down to the key's: the
// key's one account, and there only the permissions both the user holds now
// and the key lists. Since the user's grants are loaded afresh for every
// request, a key loses power the moment its user does.
func (e *Evaluator) narrowToKey(k *viewer.KeyGrant) {
	for id := range e.withheld {
		if id != k.AccountID {
			delete(e.withheld, id)
		}
	}
	for id, set := range e.accounts {
		if id != k.AccountID {
			delete(e.accounts, id)
			delete(e.contacts, id)
			continue
		}
		narrowed := PermSet{}
		for _, p := range k.Permissions {
			if set.Has(p) && !slices.Contains(KeyNever, p) {
				narrowed.Add(p)
			}
		}
		e.accounts[id] = narrowed
	}
}

// IsOwnContact reports whether contactID is a contact of the viewer's own
// user on an account it acts for (for an API key: on the key's account).
func (e *Evaluator) IsOwnContact(ctx context.Context, contactID string) (bool, error) {
	if err := e.load(ctx); err != nil {
		return false, err
	}
	for _, c := range e.contacts {
		if string(c.ID) == contactID {
			return true, nil
		}
	}
	return false, nil
}
