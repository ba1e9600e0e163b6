# Tallies `fetch --output=jsonl` into the anchor harness's summary line
# ("ok=N failed=M bytes=B"): a URL counts as ok when it got a 200.
{
  status = ""; bytes = 0
  if (match($0, /"status":[0-9]+/)) status = substr($0, RSTART + 9, RLENGTH - 9)
  if (match($0, /"bytes":[0-9]+/)) bytes = substr($0, RSTART + 8, RLENGTH - 8)
  if (status == "200") { ok++; b += bytes } else { bad++ }
}
END { printf "ok=%d failed=%d bytes=%d\n", ok, bad, b; exit (bad > 0) }
