# shellcheck shell=bash
# Shared helpers of the recording stand-ins (aws, terraform, cdktf, dig).
#
# A stand-in is an executable named like the real program, in this folder. The jest helper
# (__tests__/support/standins.ts) puts copies of the chosen stand-ins first on PATH and sets:
#   STANDIN_LOG    file that gets one line per call: the program name and its arguments,
#                  shell-quoted where needed (a line can be pasted back into a shell)
#   STANDIN_STATE  folder where stand-ins keep what they "created", so a later call sees it
#                  (each stand-in under its own subfolder: $STANDIN_STATE/<program>/)
#   STANDIN_DIR    this folder (required for the copies; a stand-in run from this folder, or
#                  through a symlink to it, finds lib.sh without it)
# Failure knobs, the same for every stand-in (PROG = the program name upper-cased, any other
# character than a letter or digit turned into _: AWS, TERRAFORM, CDKTF):
#   STANDIN_<PROG>_FAIL_ON       ';'-separated prefixes: a call whose arguments, joined by one
#                                space, start with one of them fails (e.g. "s3api head-bucket")
#   STANDIN_<PROG>_FAIL_CODE     its exit code (default: the stand-in's own)
#   STANDIN_<PROG>_FAIL_MESSAGE  its message on stderr (default: the stand-in's own)
# A stand-in starts with:
#   source "${STANDIN_DIR:-$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")}/lib.sh"
#   standin_init <program> "$@"
# These helpers avoid subshells: a test suite makes hundreds of calls.

# standin_quote VAR ARG: VAR = ARG as one shell word (bare when it holds only safe characters).
standin_quote() {
  if [[ -n $2 && $2 =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then
    printf -v "$1" '%s' "$2"
  elif [[ $2 == *[$'\n\t\r']* ]]; then
    printf -v "$1" '%q' "$2" # $'...' form, still one line
  else
    printf -v "$1" "'%s'" "${2//\'/\'\\\'\'}"
  fi
}

# standin_join VAR WORDS...: VAR = the words as one shell-quoted line.
standin_join() {
  local __var=$1 __out="" __q __a
  shift
  for __a in "$@"; do
    standin_quote __q "$__a"
    __out+="${__out:+ }$__q"
  done
  printf -v "$__var" '%s' "$__out"
}

# standin_init PROG ARGS...: checks the environment and records the call.
standin_init() {
  if [[ -z ${STANDIN_LOG:-} || -z ${STANDIN_STATE:-} ]]; then
    printf '%s stand-in: STANDIN_LOG and STANDIN_STATE must be set (see __tests__/support/standins.ts)\n' "$1" >&2
    exit 97
  fi
  [[ -d $STANDIN_STATE ]] || mkdir -p "$STANDIN_STATE"
  local line
  standin_join line "$@"
  printf '%s\n' "$line" >>"$STANDIN_LOG"
}

# standin_knob VAR PROG NAME: VAR = the value of STANDIN_<PROG>_<NAME>, or empty.
standin_knob() {
  local __prog=${2^^}
  __prog=${__prog//[^A-Z0-9]/_}
  local __name="STANDIN_${__prog}_$3"
  printf -v "$1" '%s' "${!__name:-}"
}

# standin_should_fail PROG ARGS...: true when STANDIN_<PROG>_FAIL_ON matches this call.
standin_should_fail() {
  local prog=$1
  shift
  standin_matches "$prog" FAIL_ON "$@"
}

# standin_matches PROG KNOB ARGS...: true when the ';'-separated prefixes of STANDIN_<PROG>_<KNOB>
# match this call (its arguments joined by one space).
standin_matches() {
  local prog=$1 knob=$2 patterns p line
  shift 2
  standin_knob patterns "$prog" "$knob"
  [[ -n $patterns ]] || return 1
  line="$*"
  local IFS=';'
  for p in $patterns; do
    p="${p#"${p%%[![:space:]]*}"}"
    p="${p%"${p##*[![:space:]]}"}"
    [[ -n $p && $line == "$p"* ]] && return 0
  done
  return 1
}

# standin_slurp VAR FILE: VAR = the content of FILE (no subshell).
standin_slurp() {
  IFS= read -r -d '' "$1" <"$2" || true
}

# standin_print FILE: prints FILE as it is (cat without starting a process); false when it is missing.
standin_print() {
  [[ -f $1 ]] || return 1
  local __text
  standin_slurp __text "$1"
  printf '%s' "$__text"
}
