/* SPDX-License-Identifier: MIT */
#include "util/name.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static inline uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/*
 * Bytes a name's label takes as they are (lowercased): printable ASCII but for '.', '\\' and
 * '*', which name_to_wire() looks at one by one. 0: not such a byte.
 */
static const uint8_t name_plain[256] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x00, 0x2b, 0x2c, 0x2d, 0x00, 0x2f,
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
    0x40, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
    0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x5b, 0x00, 0x5d, 0x5e, 0x5f,
    0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
    0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

int name_to_wire(const char *text, size_t n, uint8_t out[255], const char **why)
{
	size_t i = 0, o = 1, lab = 0; /* o: next byte of out; lab: current label's length byte */
	bool star = false;	      /* the label so far is exactly one unescaped '*' */

	if (n == 0) {
		*why = "empty name";
		return -EINVAL;
	}
	if (n == 1 && text[0] == '.') {
		*why = "the root cannot be listed";
		return -EINVAL;
	}
	out[0] = 0;
	while (i < n) {
		size_t run = i;
		uint8_t c, l;

		/*
		 * Fast path: a run of plain bytes (most of every name), within the label and name
		 * limits. Whatever ends it (a dot, an escape, a limit, a bad byte) is handled
		 * below.
		 */
		while (i < n && (l = name_plain[(uint8_t)text[i]]) != 0 && o - lab - 1 < 63 &&
		       o + 1 < 255) {
			out[o++] = l;
			i++;
		}
		if (i != run) {
			star = false;
			continue;
		}
		c = (uint8_t)text[i];
		if (c == '.') {
			if (o == lab + 1) {
				*why = i == 0 ? "leading dot" : "empty label";
				return -EINVAL;
			}
			if (star)
				goto wildcard;
			out[lab] = (uint8_t)(o - lab - 1);
			lab = o++;
			i++;
			if (i == n) { /* trailing dot: o points past the root label slot */
				o--;
				break;
			}
			if (o > 255) {
				*why = "name longer than 255 bytes";
				return -EINVAL;
			}
			continue;
		}
		star = false;
		if (c == '\\') {
			if (i + 1 >= n) {
				*why = "bad escape";
				return -EINVAL;
			}
			if (text[i + 1] >= '0' && text[i + 1] <= '9') {
				unsigned v = 0;

				for (int k = 1; k <= 3; k++) {
					if (i + k >= n || text[i + k] < '0' || text[i + k] > '9') {
						*why = "bad escape: \\DDD needs three digits";
						return -EINVAL;
					}
					v = v * 10 + (unsigned)(text[i + k] - '0');
				}
				if (v > 255) {
					*why = "bad escape: \\DDD above 255";
					return -EINVAL;
				}
				c = (uint8_t)v;
				i += 4;
			} else {
				c = (uint8_t)text[i + 1];
				if (c <= ' ' || c >= 0x7f) {
					*why = "bad escape";
					return -EINVAL;
				}
				i += 2;
			}
		} else {
			if (c <= ' ' || c == 0x7f) {
				*why = c == 0 ? "NUL byte in name"
					      : "whitespace or control character inside a name";
				return -EINVAL;
			}
			if (c >= 0x80) {
				*why = "non-ASCII character: write the IDNA (xn--) form";
				return -EINVAL;
			}
			if (c == '*' && o == lab + 1)
				star = true;
			i++;
		}
		if (o - lab - 1 == 63) {
			*why = "label longer than 63 bytes";
			return -EINVAL;
		}
		if (o + 1 >= 255) { /* this byte, then at least the root label */
			*why = "name longer than 255 bytes";
			return -EINVAL;
		}
		out[o++] = lower(c);
	}
	if (star)
		goto wildcard;
	if (o > lab + 1) { /* close the last label (no trailing dot) */
		out[lab] = (uint8_t)(o - lab - 1);
		lab = o++;
	}
	if (lab >= 255) {
		*why = "name longer than 255 bytes";
		return -EINVAL;
	}
	out[lab] = 0;
	return (int)(lab + 1);
wildcard:
	*why = "wildcards are not needed: a listed domain matches all its subdomains";
	return -EINVAL;
}

/* Case-insensitive prefix test of s[0..n). */
static bool has_prefix(const char *s, size_t n, const char *pre)
{
	size_t k = strlen(pre);

	if (n < k)
		return false;
	for (size_t i = 0; i < k; i++)
		if (lower((uint8_t)s[i]) != (uint8_t)pre[i])
			return false;
	return true;
}

const char *name_defang(const char *s, size_t *n, char buf[NAME_TEXT_MAX])
{
	static const char *const schemes[] = {"hxxps", "hxxp", "https", "http"};
	static const char *const dots[] = {"[.]", "(.)", "{.}", "[dot]", "(dot)"};
	size_t len = *n, i, o = 0;
	bool any = false;

	for (i = 0; i < len && !any; i++)
		any = s[i] == '[' || s[i] == '(' || s[i] == '{' || s[i] == ':' || s[i] == '/';
	if (!any)
		return s;
	/* A URL: drop the scheme, then everything from the path, query or fragment on. */
	for (i = 0; i < ARRAY_LEN(schemes); i++) {
		size_t k = strlen(schemes[i]);

		if (!has_prefix(s, len, schemes[i]))
			continue;
		if (has_prefix(s + k, len - k, "://"))
			k += 3;
		else if (has_prefix(s + k, len - k, "[://]"))
			k += 5;
		else if (has_prefix(s + k, len - k, "[:]//"))
			k += 5;
		else
			continue;
		s += k;
		len -= k;
		break;
	}
	for (i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == '?' || s[i] == '#')
			break;
	len = i;
	for (i = 0; i < len && o < NAME_TEXT_MAX - 1;) {
		size_t d;

		for (d = 0; d < ARRAY_LEN(dots); d++) {
			size_t k = strlen(dots[d]);

			if (has_prefix(s + i, len - i, dots[d])) {
				buf[o++] = '.';
				i += k;
				break;
			}
		}
		if (d == ARRAY_LEN(dots))
			buf[o++] = s[i++];
	}
	/* A port: host:443 */
	for (i = o; i > 0 && buf[i - 1] >= '0' && buf[i - 1] <= '9'; i--)
		;
	if (i > 1 && i < o && buf[i - 1] == ':')
		o = i - 1;
	*n = o;
	return buf;
}
