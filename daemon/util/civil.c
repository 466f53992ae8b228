/* SPDX-License-Identifier: MIT */
#include "util/civil.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
int64_t civil_days(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, yoe, doe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

bool civil_digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/*
 * YYYY-MM-DD (midnight UTC), RFC 3339 (YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)), or
 * "YYYY-MM-DD HH:MM:SS[.frac]" without a zone (UTC). For
 * expires, a date means "after this day": the first inactive second is the next midnight, and
 * a fractional time rounds up.
 */
bool civil_parse_time(const char *s, size_t n, bool is_expires, int64_t *out)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, hh, mm, ss, oh = 0, om = 0, sign = 0, dim;
	bool frac = false;
	size_t i;
	int64_t t;

	if (n < 10 || !civil_digits(s, 4, &y) || s[4] != '-' || !civil_digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !civil_digits(s + 8, 2, &d))
		return false;
	if (mo < 1 || mo > 12)
		return false;
	dim = mdays[mo - 1] + (mo == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)));
	if (d < 1 || d > dim)
		return false;
	t = civil_days(y, (unsigned)mo, (unsigned)d) * 86400;
	if (n == 10) {
		*out = is_expires ? t + 86400 : t;
		return true;
	}
	if (n < 19 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !civil_digits(s + 11, 2, &hh) || s[13] != ':' || !civil_digits(s + 14, 2, &mm) ||
	    s[16] != ':' || !civil_digits(s + 17, 2, &ss))
		return false;
	if (hh > 23 || mm > 59 || ss > 60)
		return false;
	i = 19;
	if (i < n && s[i] == '.') {
		size_t k = ++i;

		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			if (s[i] != '0')
				frac = true;
		if (i == k)
			return false;
	}
	if (i == n && s[10] == ' ') {
		/* "YYYY-MM-DD HH:MM:SS" without a zone, as feeds such as ThreatFox write: UTC. */
		sign = 0;
	} else if (i == n - 1 && (s[i] == 'Z' || s[i] == 'z')) {
		sign = 0;
	} else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && civil_digits(s + i + 1, 2, &oh) &&
		   s[i + 3] == ':' && civil_digits(s + i + 4, 2, &om)) {
		if (oh > 23 || om > 59)
			return false;
		sign = s[i] == '-' ? -1 : 1;
	} else {
		return false;
	}
	t += hh * 3600 + mm * 60 + ss - sign * (oh * 3600 + om * 60);
	if (frac && is_expires)
		t++;
	*out = t;
	return true;
}
