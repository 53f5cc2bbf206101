#!/bin/sh
# The built-in scripted agent of `git gastown demo` and the town simulation: no LLM, no
# network. It does what its hooked bead's title asks, as an agent would, through the
# suite's own commands: `git agent hook --json` to read the hook, commits on its branch,
# `git agent done` to hand the work in (which ends this session).
#
# Every bead's change is the line "bead <id>" (its marker): in work/<id>.txt, or, when the
# title says [shared: PATH], appended to PATH, which other beads append to as well (so
# merges conflict). A title with [breaks-gate] also adds broken/<id> on the first try,
# which the demo's gate refuses; the retry removes it. A rework bead ("Resolve merge
# conflict: BRANCH onto TARGET") replays the conflicting request's pinned work onto the
# target and keeps both sides of every conflict.
#
# It must survive SIGKILL at any instant and a restart: everything it does is checked
# against what is already there, so a second run never adds a change twice.
set -u
log() { printf '%s %s\n' "${GT_AGENT:-agent}" "$*" >&2; }

# A previous session killed mid-command leaves git's lock files and a half-done rebase.
gitdir=$(git rev-parse --git-dir)
common=$(git rev-parse --git-common-dir)
branch=$(git symbolic-ref --short -q HEAD || echo "")
# Every lock of this worktree (index, HEAD, ORIG_HEAD, CHERRY_PICK_HEAD, AUTO_MERGE, ...):
# nothing else runs git here while this session lives.
rm -f "$gitdir"/*.lock
[ -n "$branch" ] && rm -f "$common/refs/heads/$branch.lock"
git rebase --abort >/dev/null 2>&1
git cherry-pick --abort >/dev/null 2>&1
git reset -q --hard HEAD >/dev/null 2>&1
# Untracked files a killed session left (`done` refuses a sandbox holding them): this agent
# writes only its hooked bead's files, and writes them again when they are missing.
git clean -q -fd >/dev/null 2>&1

hook=$(git agent hook --json) || exit 1
field() { printf '%s\n' "$hook" | sed -n "s/^    \"$1\": \"\(.*\)\",\{0,1\}\$/\1/p" | head -n 1; }
id=$(field id)
title=$(field title)
if [ -z "$id" ]; then
  log "nothing on my hook"
  exit 0
fi
log "working on $id: $title"

# Keep both sides of every conflict in the files git lists as unmerged.
union_conflicts() {
  git diff --name-only --diff-filter=U | while IFS= read -r f; do
    sed -i -e '/^<<<<<<< /d' -e '/^=======$/d' -e '/^>>>>>>> /d' -e '/^||||||| /d' "$f"
    git add -- "$f"
  done
}

# Whether HEAD is the commit of a rejected merge request (done would find that request
# again: a retry needs a new commit).
head_was_rejected() {
  head=$(git rev-parse HEAD)
  git mq list --all --json 2>/dev/null | awk -v c="\"commit\": \"$head\"" '
    /^  \{/ { obj = "" }
    { obj = obj $0 "\n" }
    /^  \}/ { if (index(obj, c) && index(obj, "\"status\": \"rejected\"")) found = 1 }
    END { exit !found }'
}

has_marker() {
  re=$(printf '%s' "$1" | sed 's/\./\\./g')
  git grep -q -e "^bead $re\$" HEAD -- . 2>/dev/null
}

case "$title" in
  "Resolve merge conflict: "*)
    target=${title##* onto }
    desc=$(field description)
    mr=$(printf '%s' "$desc" | sed -n 's/^Merge request \([^ ]*\) (branch.*/\1/p')
    pin="refs/gastown/local/work/$mr"
    if git rev-parse -q --verify "$pin^{commit}" >/dev/null; then
      # Only when the branch does not already hold the replayed work (a restart).
      if ! git merge-base --is-ancestor "$target" HEAD || [ "$(git rev-list --count "$target..HEAD")" = 0 ]; then
        git reset -q --hard "$pin"
        if ! git rebase -q "$target" >/dev/null 2>&1; then
          tries=0
          while [ -d "$gitdir/rebase-merge" ] || [ -d "$gitdir/rebase-apply" ]; do
            tries=$((tries + 1))
            [ $tries -gt 50 ] && { git rebase --abort; exit 1; }
            union_conflicts
            if git diff --cached --quiet; then
              GIT_EDITOR=true git rebase --skip >/dev/null 2>&1
            else
              GIT_EDITOR=true git rebase --continue >/dev/null 2>&1
            fi
          done
        fi
      fi
    else
      log "no pinned work for $mr"
    fi
    if [ "$(git rev-list --count "$target..HEAD")" = 0 ]; then
      # Nothing left to merge: the work is already in the target.
      git commit -q --allow-empty -m "Resolve $mr: nothing left to merge"
    fi
    if head_was_rejected; then
      # The replayed work broke the gate (it carried its bead's broken/ file): fix it, or
      # ask again with a new commit when there is nothing to fix (a flaky gate).
      if [ -n "$(git ls-files broken)" ]; then
        git rm -q -r broken
        git commit -q -m "Resolve $mr: remove what broke the gate"
      else
        git commit -q --allow-empty -m "Resolve $mr: retry"
      fi
    fi
    ;;
  *)
    if has_marker "$id"; then
      if git ls-files --error-unmatch "broken/$id" >/dev/null 2>&1; then
        # The gate refused the first try: fix it.
        git rm -q "broken/$id"
        git commit -q -m "Fix $id: remove what broke the gate"
      elif head_was_rejected; then
        # Rejected by a flaky gate with nothing to fix: a new commit asks again.
        git commit -q --allow-empty -m "Retry $id"
      fi
    else
      case "$title" in
        *"[shared: "*)
          path=${title#*\[shared: }
          path=${path%%\]*}
          ;;
        *) path="work/$id.txt" ;;
      esac
      mkdir -p "$(dirname "$path")"
      printf 'bead %s\n' "$id" >> "$path"
      git add -- "$path"
      case "$title" in
        *"[breaks-gate]"*)
          mkdir -p broken
          printf 'this breaks the gate\n' > "broken/$id"
          git add -- "broken/$id"
          ;;
      esac
      git commit -q -m "$title"
    fi
    ;;
esac

started=$(date +%s%N)
git agent done --json --keep-session > /dev/null
status=$?
if [ -n "${GT_SIM_TIMINGS:-}" ]; then
  printf 'done %s %s\n' "$(( ($(date +%s%N) - started) / 1000000 ))" "$status" >> "$GT_SIM_TIMINGS"
fi
exit $status
