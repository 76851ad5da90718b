package capture

import "testing"

func TestURLParts(t *testing.T) {
	for _, tc := range []struct{ raw, host, origin, target string }{
		{"http://Shop.example:8080/cart?id=3#top", "shop.example:8080", "http://shop.example:8080", "/cart?id=3"},
		{"https://user:pw@shop.example", "shop.example", "https://shop.example", "/"},
		{"http://shop.example?q=1", "shop.example", "http://shop.example", "/?q=1"},
		{"http://shop.example/a%zz b", "shop.example", "http://shop.example", "/a%zz b"}, // net/url refuses it
		{"/relative?x#f", "", "", "/relative?x"},
		{"", "", "", "/"},
	} {
		r := Request{URL: tc.raw}
		if h, o, p := r.Host(), URLOrigin(tc.raw), r.Target(); h != tc.host || o != tc.origin || p != tc.target {
			t.Errorf("%q: host %q origin %q target %q; want %q %q %q", tc.raw, h, o, p, tc.host, tc.origin, tc.target)
		}
	}
}
