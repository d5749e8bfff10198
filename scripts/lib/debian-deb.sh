# Sourced by scripts/provision-*.sh: fetch one pinned .deb from another Debian suite (e.g. trixie)
# through a private apt configuration whose mirror is taken, at run time, from this machine's own
# apt sources. The system apt configuration is never modified, nothing is installed system-wide.
#
#   apt_prepare <apt-dir> <suite>          writes the private config, apt-get update
#   fetch_deb <package> <version>          -> prints the path of the downloaded .deb
#
# The caller defines die() and log().

# Prints "URI<TAB>Signed-By" for the first source serving the Debian main archive
# (a suite named after a Debian release codename, not -security).
debian_main_source() {
  local f
  shopt -s nullglob
  for f in /etc/apt/sources.list.d/*.sources; do
    # deb822: stanzas separated by blank lines.
    awk '
      function flush() {
        if (types ~ /(^|[ \t])deb([ \t]|$)/ && uris != "" && suites ~ /(^|[ \t])(bookworm|trixie|bullseye|forky|sid|unstable|stable|testing)([ \t]|$)/ && comps ~ /(^|[ \t])main([ \t]|$)/) {
          n = split(uris, u, /[ \t]+/)
          for (i = 1; i <= n; i++) if (u[i] != "") { printf "%s\t%s\n", u[i], signed; exit }
        }
        types = uris = suites = comps = signed = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      {
        line = $0
        key = tolower(line); sub(/:.*/, "", key); gsub(/[ \t]/, "", key)
        val = line; sub(/^[^:]*:[ \t]*/, "", val); sub(/[ \t]+$/, "", val)
        if (key == "types") types = val
        else if (key == "uris") uris = val
        else if (key == "suites") suites = val
        else if (key == "components") comps = val
        else if (key == "signed-by") signed = val
      }
      END { flush() }
    ' "$f"
  done
  if [[ -f /etc/apt/sources.list ]]; then
    # one-line format: deb [opts] URI suite comp...
    awk '
      /^[ \t]*deb[ \t]/ {
        opts = ""; i = 2
        if ($2 ~ /^\[/) { while (i <= NF) { opts = opts " " $i; if ($i ~ /\]$/) { i++; break } i++ } }
        uri = $i; suite = $(i + 1)
        main = 0; for (j = i + 2; j <= NF; j++) if ($j == "main") main = 1
        if (main && suite ~ /^(bookworm|trixie|bullseye|forky|sid|unstable|stable|testing)$/) {
          signed = ""
          if (match(opts, /signed-by=[^ \]]+/)) signed = substr(opts, RSTART + 10, RLENGTH - 10)
          printf "%s\t%s\n", uri, signed; exit
        }
      }
    ' /etc/apt/sources.list
  fi
}

apt_prepare() {
  local suite="$2"
  APT_DIR="$1"
  local apt="$APT_DIR"
  command -v apt-get >/dev/null || die "apt-get not found"
  command -v dpkg-deb >/dev/null || die "dpkg-deb not found"
  local src mirror keyring k
  src="$(debian_main_source | head -n 1)"
  [[ -n "$src" ]] || die "no Debian main archive found in /etc/apt/sources.list{,.d}"
  mirror="${src%%$'\t'*}"
  keyring="${src#*$'\t'}"
  if [[ -z "$keyring" ]]; then
    for k in /usr/share/keyrings/debian-archive-keyring.gpg /etc/apt/trusted.gpg.d/debian-archive-keyring.gpg; do
      [[ -f "$k" ]] && { keyring="$k"; break; }
    done
  fi
  [[ -n "$keyring" && -f "$keyring" ]] || die "no Debian archive keyring found"

  mkdir -p "$apt/sources" "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
  cat >"$apt/sources/private.sources" <<SRC
Types: deb
URIs: $mirror
Suites: $suite
Components: main
Signed-By: $keyring
SRC

  local arch
  arch="$(dpkg --print-architecture 2>/dev/null || echo amd64)"
  APT_OPTS=(
    -o "Dir::Etc::SourceList=/dev/null"
    -o "Dir::Etc::SourceParts=$apt/sources"
    -o "Dir::State::Lists=$apt/lists"
    -o "Dir::State::Status=/dev/null"
    -o "Dir::Cache=$apt/cache"
    -o "Dir::Cache::pkgcache="
    -o "Dir::Cache::srcpkgcache="
    -o "APT::Sandbox::User=root"
    -o "APT::Architectures::=$arch"
    -o "APT::Architecture=$arch"
    -o "Debug::NoLocking=1"
  )

  log "apt-get update ($suite, private config in $apt)"
  apt-get "${APT_OPTS[@]}" -qq update >&2 || die "apt-get update failed"
}

fetch_deb() {
  local pkg="$1" version="$2" apt="$APT_DIR"

  log "apt-get download $pkg=$version"
  ( cd "$apt/debs" && rm -f "${pkg}"_*.deb && apt-get "${APT_OPTS[@]}" -qq download "$pkg=$version" >&2 ) \
    || die "apt-get download $pkg=$version failed"
  local deb got
  deb="$(ls "$apt/debs/${pkg}"_*.deb 2>/dev/null | head -n 1)"
  [[ -n "$deb" ]] || die "no $pkg .deb downloaded"
  got="$(dpkg-deb -f "$deb" Version)"
  [[ "$got" == "$version" ]] || die "downloaded $pkg $got, wanted $version"
  printf '%s\n' "$deb"
}
