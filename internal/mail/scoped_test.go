package mail

var _ = func() bool {
	wants[ScopedPasswordReset] = []string{"login", "link"}
	wants[ReferenceEmailVerify] = []string{"login", "link", "new_email"}
	wants[ScopedPasswordChanged] = []string{"login"}
	return true
}()
