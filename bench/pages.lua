-- wrk script of bench/pages.py: sends the requests of a file and checks every answer.
--
--   wrk -s bench/pages.lua URL -- FILE EXPECT MODE THREADS AGENT
--
-- FILE     one request a line: method, path, Cookie header and form body, tab-separated
-- EXPECT   what every answer must be: "page" (200), "pdf" (200 and a PDF) or
--          "submitted" (302 to the attempt's result page)
-- MODE     "cycle" through the requests, or send each "once": a thread stops when its
--          requests run out
-- THREADS  wrk's -t: once, thread n takes every THREADS-th line from line n; cycling,
--          every thread takes every line
-- AGENT    the User-Agent the sessions were started with
--
-- done() prints one line, "RESULT {...}" (JSON), and "WRONG ..." with the first answer
-- that was not as expected. An answer of the wrong kind counts in "wrong". The rate is
-- the answers counted over the time from the first request to the last answer, so that a
-- run whose requests ran out early still gives a true rate (wrk's own runs to -d).

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *now);
]])
local MONOTONIC = 1
local timespec = ffi.new("bench_timespec")

local function clock()
  ffi.C.clock_gettime(MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) / 1e9
end

local threads = {}

function setup(thread)
  thread:set("number", #threads)
  table.insert(threads, thread)
end

function init(args)
  local file, total, agent = args[1], tonumber(args[4]), args[5]
  expect, mode = args[2], args[3]
  requests, sent, wrong, exhausted, first_wrong = {}, 0, 0, false, ""
  answered, started, last = 0, 0, 0
  local line_number = 0
  for line in io.lines(file) do
    if mode == "cycle" or line_number % total == number then
      local method, path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)$")
      local headers = { ["User-Agent"] = agent }
      if cookie ~= "" then
        headers["Cookie"] = cookie
      end
      if body == "" then
        body = nil
      else
        headers["Content-Type"] = "application/x-www-form-urlencoded"
      end
      table.insert(requests, wrk.format(method, path, headers, body))
    end
    line_number = line_number + 1
  end
  assert(#requests > 0, "no request for thread " .. number .. " in " .. file)
end

function request()
  if started == 0 then
    started = clock()
  end
  if sent == #requests then
    if mode == "once" then
      -- The thread stops before it reads another answer: what it sends now is not counted.
      exhausted = true
      wrk.thread:stop()
      return requests[sent]
    end
    sent = 0
  end
  sent = sent + 1
  return requests[sent]
end

local function header(headers, name)
  for key, value in pairs(headers) do
    if key:lower() == name then
      return value
    end
  end
  return ""
end

function response(status, headers, body)
  -- Once: at most one answer per request (the one sent on running out is not counted).
  if mode == "once" and answered == #requests then
    return
  end
  answered, last = answered + 1, clock()
  local right
  if expect == "submitted" then
    local location = header(headers, "location"):gsub("^https?://[^/]+", "")
    right = status == 302 and location:match("^/training/attempts/%d+$") ~= nil
  elseif expect == "pdf" then
    right = status == 200 and body:sub(1, 4) == "%PDF"
  else
    right = status == 200
  end
  if not right then
    wrong = wrong + 1
    if first_wrong == "" then
      first_wrong = status .. " " .. header(headers, "location")
    end
  end
end

function done(summary, latency, _)
  local wrong_total, exhausted_any, example = 0, false, ""
  local answered_total, first, final = 0, math.huge, 0
  for _, thread in ipairs(threads) do
    answered_total = answered_total + thread:get("answered")
    first = math.min(first, thread:get("started"))
    final = math.max(final, thread:get("last"))
    wrong_total = wrong_total + thread:get("wrong")
    exhausted_any = exhausted_any or thread:get("exhausted")
    if example == "" then
      example = thread:get("first_wrong")
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'RESULT {"answered": %d, "seconds": %.3f, "requests": %d, "wrong": %d, "connect": %d, '
      .. '"read": %d, "write": %d, "status": %d, "timeout": %d, "exhausted": %s, '
      .. '"p50_ms": %.2f, "p99_ms": %.2f}\n',
    answered_total, math.max(final - first, 0), summary.requests, wrong_total,
    errors.connect, errors.read,
    errors.write, errors.status, errors.timeout, tostring(exhausted_any),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000
  ))
  if example ~= "" then
    io.write("WRONG " .. example .. "\n")
  end
end
