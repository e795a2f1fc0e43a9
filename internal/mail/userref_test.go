package mail

var _ = func() bool {
	wants[UserReferenceEmailVerify] = []string{"name", "username", "link", "new_email"}
	wants[ReferenceEmailChanged] = []string{"name", "new_email"}
	return true
}()
