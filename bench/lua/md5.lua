-- MD5 (RFC 1321) in LuaJIT's `bit` operations, for wrk scripts that answer the web-service challenge
-- (accessKey = md5(token .. key)). Checked against RFC 1321's test suite when loaded (below).
local bit = require("bit")
local band, bor, bxor, bnot, rol, tobit = bit.band, bit.bor, bit.bxor, bit.bnot, bit.rol, bit.tobit
local lshift, rshift = bit.lshift, bit.rshift
local byte, char, format, rep = string.byte, string.char, string.format, string.rep

local S = {
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
  5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
  4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
  6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
}
local K = {}
for i = 0, 63 do K[i] = tobit(math.floor(math.abs(math.sin(i + 1)) * 4294967296)) end

local function le(x)
  return format("%02x%02x%02x%02x", band(x, 255), band(rshift(x, 8), 255), band(rshift(x, 16), 255),
    band(rshift(x, 24), 255))
end

function md5(msg)
  local len = #msg
  local bits = len * 8
  msg = msg .. "\128" .. rep("\0", (55 - len) % 64)
    .. char(band(bits, 255), band(rshift(bits, 8), 255), band(rshift(bits, 16), 255), band(rshift(bits, 24), 255))
    .. char(band(math.floor(bits / 4294967296), 255), 0, 0, 0)
  local a0, b0, c0, d0 = tobit(0x67452301), tobit(0xefcdab89), tobit(0x98badcfe), tobit(0x10325476)
  local M = {}
  for chunk = 1, #msg, 64 do
    for i = 0, 15 do
      local b1, b2, b3, b4 = byte(msg, chunk + i * 4, chunk + i * 4 + 3)
      M[i] = bor(b1, lshift(b2, 8), lshift(b3, 16), lshift(b4, 24))
    end
    local A, B, C, D = a0, b0, c0, d0
    for i = 0, 63 do
      local F, g
      if i < 16 then
        F, g = bor(band(B, C), band(bnot(B), D)), i
      elseif i < 32 then
        F, g = bor(band(D, B), band(bnot(D), C)), (5 * i + 1) % 16
      elseif i < 48 then
        F, g = bxor(B, C, D), (3 * i + 5) % 16
      else
        F, g = bxor(C, bor(B, bnot(D))), (7 * i) % 16
      end
      F = tobit(F + A + K[i] + M[g])
      A, D, C = D, C, B
      B = tobit(B + rol(F, S[i + 1]))
    end
    a0, b0, c0, d0 = tobit(a0 + A), tobit(b0 + B), tobit(c0 + C), tobit(d0 + D)
  end
  return le(a0) .. le(b0) .. le(c0) .. le(d0)
end

-- RFC 1321, appendix A.5: a wrong digest would only show as failed logins, so refuse to run instead
assert(md5("") == "d41d8cd98f00b204e9800998ecf8427e")
assert(md5("abc") == "900150983cd24fb0d6963f7d28e17f72")
assert(md5("message digest") == "f96b697d7cb7938d525a2f31aaf161d0")
assert(md5(string.rep("1234567890", 8)) == "57edf4a22be3c955ac49da2e2107b67a")
