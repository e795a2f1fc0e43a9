package customers

import (
	"context"
	"strings"
	"time"

	"portier/ent"
	"portier/ent/customeraccount"
	"portier/ent/schema"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/notify"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// AccountChanges is the input of UpdateAccount: nil fields keep their value.
type AccountChanges struct {
	ID                   pulid.ID
	Name, ShortName      *string
	Address              *AddressChanges
	TimeZone, Locale     *string
	SecondFactorRequired *bool
}

// AddressChanges are the parts of the postal address to set; nil parts keep
// their value, "" clears one.
type AddressChanges struct {
	Street, PostalCode, City, Country *string
}

// Address is a postal address as stored on an account.
type Address struct {
	Street     string `json:"street"`
	PostalCode string `json:"postalCode"`
	City       string `json:"city"`
	Country    string `json:"country"`
}

// AddressOf returns the account's postal address and whether any part is set.
func AddressOf(a *ent.CustomerAccount) (Address, bool) {
	ad := Address{Street: a.AddressStreet, PostalCode: a.AddressPostalCode, City: a.AddressCity, Country: a.AddressCountry}
	return ad, ad != Address{}
}

// normalized is an AccountChanges after validation: every field holds the
// value to store.
type normalized struct {
	name, shortName, timeZone, locale *string
	address                           *Address
	secondFactorRequired              *bool
}

// validate checks and normalises every given field against the stored
// account a (for the address parts left out) and returns the first problem
// as BAD_USER_INPUT naming the field.
func (in AccountChanges) validate(a *ent.CustomerAccount) (normalized, error) {
	var n normalized
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		if name == "" || len(name) > 200 {
			return n, apperr.BadInput("input.name", "a name of 1 to 200 characters is required")
		}
		n.name = &name
	}
	if in.ShortName != nil {
		s := strings.TrimSpace(*in.ShortName)
		if len(s) > 50 {
			return n, apperr.BadInput("input.shortName", "a short name has at most 50 characters")
		}
		n.shortName = &s
	}
	if ad := in.Address; ad != nil {
		cur, _ := AddressOf(a)
		part := func(p *string, into *string, field string, max int) error {
			if p == nil {
				return nil
			}
			s := strings.TrimSpace(*p)
			if len(s) > max {
				return apperr.BadInput("input.address."+field, "%s has at most %d characters", field, max)
			}
			*into = s
			return nil
		}
		for _, p := range []struct {
			v     *string
			into  *string
			field string
			max   int
		}{{ad.Street, &cur.Street, "street", 200}, {ad.PostalCode, &cur.PostalCode, "postalCode", 20}, {ad.City, &cur.City, "city", 100}} {
			if err := part(p.v, p.into, p.field, p.max); err != nil {
				return n, err
			}
		}
		if ad.Country != nil {
			c := strings.ToUpper(strings.TrimSpace(*ad.Country))
			if c != "" && !ValidCountry(c) {
				return n, apperr.BadInput("input.address.country", "%q is not an ISO 3166-1 alpha-2 country code", *ad.Country)
			}
			cur.Country = c
		}
		n.address = &cur
	}
	if in.TimeZone != nil {
		tz := strings.TrimSpace(*in.TimeZone)
		if _, err := time.LoadLocation(tz); err != nil || tz == "" || tz == "Local" {
			return n, apperr.BadInput("input.timeZone", "%q is not an IANA time zone", *in.TimeZone)
		}
		n.timeZone = &tz
	}
	if in.Locale != nil {
		l := strings.ToLower(strings.TrimSpace(*in.Locale))
		if l != "de" && l != "en" {
			return n, apperr.BadInput("input.locale", "the locale is de or en")
		}
		n.locale = &l
	}
	n.secondFactorRequired = in.SecondFactorRequired
	return n, nil
}

// ValidCountry reports whether c is an officially assigned ISO 3166-1
// alpha-2 code (upper-case).
func ValidCountry(c string) bool {
	if !schema.CountryCodePattern.MatchString(c) {
		return false
	}
	return strings.Contains(" "+isoCountries+" ", " "+c+" ")
}

// UpdateAccount changes an account's master data (the directive checked
// ACCOUNT_UPDATE; the CustomerAccount policy checks it again on the write).
// Only given fields that differ are written, in one update guarded on the
// row as read (updated_at) and on the account not being DELETED, and
// audited as customer_account.update with every changed field and its
// previous value. Nothing changes: nothing is written, nothing audited.
func (s *Service) UpdateAccount(ctx context.Context, in AccountChanges) (*ent.CustomerAccount, error) {
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	a, err := c.CustomerAccount.Get(ctx, in.ID)
	if ent.IsNotFound(err) {
		return nil, notFoundAt("input.customerAccountID")
	}
	if err != nil {
		return nil, err
	}
	if a.Status == customeraccount.StatusDELETED {
		return nil, apperr.BadInput("input.customerAccountID", "the customer account is deleted and cannot be changed")
	}
	n, err := in.validate(a)
	if err != nil {
		return nil, err
	}
	upd := c.CustomerAccount.Update().Where(customeraccount.ID(a.ID), customeraccount.UpdatedAt(a.UpdatedAt),
		customeraccount.StatusNEQ(customeraccount.StatusDELETED))
	changes := map[string]any{}
	change := func(field string, old, new any) {
		changes[field] = new
		changes["previous"+strings.ToUpper(field[:1])+field[1:]] = old
	}
	if n.name != nil && *n.name != a.Name {
		upd.SetName(*n.name)
		change("name", a.Name, *n.name)
	}
	if n.shortName != nil && *n.shortName != a.ShortName {
		if *n.shortName == "" {
			upd.ClearShortName()
		} else {
			upd.SetShortName(*n.shortName)
		}
		change("shortName", a.ShortName, *n.shortName)
	}
	if n.address != nil {
		if cur, _ := AddressOf(a); *n.address != cur {
			setOrClear(n.address.Street, upd.SetAddressStreet, upd.ClearAddressStreet)
			setOrClear(n.address.PostalCode, upd.SetAddressPostalCode, upd.ClearAddressPostalCode)
			setOrClear(n.address.City, upd.SetAddressCity, upd.ClearAddressCity)
			setOrClear(n.address.Country, upd.SetAddressCountry, upd.ClearAddressCountry)
			change("address", cur, *n.address)
		}
	}
	if n.timeZone != nil && *n.timeZone != a.TimeZone {
		upd.SetTimeZone(*n.timeZone)
		change("timeZone", a.TimeZone, *n.timeZone)
	}
	if n.locale != nil && *n.locale != a.Locale {
		upd.SetLocale(*n.locale)
		change("locale", a.Locale, *n.locale)
	}
	if p := n.secondFactorRequired; p != nil && *p != a.SecondFactorRequired {
		v := viewer.FromContext(ctx)
		// Turning the policy on without a second factor of one's own
		// would lock the acting person out of the account at once.
		// Staff are not subject to the policy.
		if *p && !v.IsStaff() && !v.SecondFactorEnabled {
			e := apperr.BadInput("input.secondFactorRequired", "enable a second factor for your own login first (startTotpEnrollment or requestSecondFactorCode, then enableTwoFactor)")
			e.Reason = "OWN_SECOND_FACTOR_REQUIRED"
			return nil, e
		}
		upd.SetSecondFactorRequired(*p)
		change("secondFactorRequired", a.SecondFactorRequired, *p)
	}
	if len(changes) == 0 {
		return a, nil
	}
	cnt, err := upd.Save(ctx)
	if err != nil {
		return nil, err
	}
	if cnt != 1 {
		// Changed (or deleted) since it was read: the caller decided on
		// values that are no longer there.
		return nil, apperr.Conflict("input.customerAccountID", "the customer account was changed at the same time; load it again and retry")
	}
	if err := audit.Record(ctx, c, audit.Entry{Action: "customer_account.update", AccountID: a.ID,
		TargetType: "CustomerAccount", TargetID: string(a.ID), Changes: changes}); err != nil {
		return nil, err
	}
	if n.secondFactorRequired != nil && *n.secondFactorRequired != a.SecondFactorRequired {
		if err := notify.SecondFactorPolicyChanged(ctx, c, a, *n.secondFactorRequired, s.Now()); err != nil {
			return nil, err
		}
	}
	return c.CustomerAccount.Get(ctx, a.ID)
}

func setOrClear[T any](v string, set func(string) T, clear func() T) {
	if v == "" {
		clear()
	} else {
		set(v)
	}
}

// isoCountries are the officially assigned ISO 3166-1 alpha-2 codes.
const isoCountries = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ " +
	"BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ " +
	"DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY " +
	"HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY " +
	"MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
	"NA NC NE NF NG NI NL NO NP NR NU NZ OM " +
	"PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ " +
	"TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ " +
	"VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"
