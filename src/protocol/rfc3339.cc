#include "protocol/rfc3339.h"

#include <fmt/format.h>

namespace cmdq::protocol {
namespace {

constexpr int64_t kMicrosPerDay = 86'400'000'000;
constexpr int64_t kMaxUnixUs = 253'402'300'799'999'999;  // 9999-12-31T23:59:59.999999Z

// Howard Hinnant's days_from_civil / civil_from_days: exact for the proleptic Gregorian
// calendar, no tables, no time zone database.
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct Civil {
  int64_t year;
  int month, day;
};

Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (m <= 2), m, d};
}

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

void PutDigits(char* dst, int64_t value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    dst[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// Reads `width` digits at `pos`; -1 when any is not a digit.
int64_t Digits(std::string_view s, size_t pos, size_t width) {
  if (pos + width > s.size()) return -1;
  int64_t v = 0;
  for (size_t i = pos; i < pos + width; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

Status BadTime(std::string_view field, std::string_view why) {
  return Status::InvalidArgument(
      std::string(field),
      fmt::format("{} must be an RFC 3339 time such as \"2025-01-02T03:04:05Z\": {}", field, why));
}

}  // namespace

void AppendRfc3339(int64_t unix_us, std::string& out) {
  if (unix_us < 0) unix_us = 0;
  if (unix_us > kMaxUnixUs) unix_us = kMaxUnixUs;
  const int64_t days = unix_us / kMicrosPerDay;
  const int64_t in_day = unix_us % kMicrosPerDay;
  const Civil c = CivilFromDays(days);
  const int64_t secs = in_day / 1'000'000;
  const size_t start = out.size();
  out.resize(start + kRfc3339Size);
  char* p = out.data() + start;
  PutDigits(p, c.year, 4);
  p[4] = '-';
  PutDigits(p + 5, c.month, 2);
  p[7] = '-';
  PutDigits(p + 8, c.day, 2);
  p[10] = 'T';
  PutDigits(p + 11, secs / 3600, 2);
  p[13] = ':';
  PutDigits(p + 14, secs / 60 % 60, 2);
  p[16] = ':';
  PutDigits(p + 17, secs % 60, 2);
  p[19] = '.';
  PutDigits(p + 20, in_day % 1'000'000, 6);
  p[26] = 'Z';
}

std::string FormatRfc3339(int64_t unix_us) {
  std::string out;
  AppendRfc3339(unix_us, out);
  return out;
}

Result<int64_t> ParseRfc3339(std::string_view s, std::string_view field) {
  const int64_t year = Digits(s, 0, 4), month = Digits(s, 5, 2), day = Digits(s, 8, 2);
  const int64_t hour = Digits(s, 11, 2), minute = Digits(s, 14, 2), second = Digits(s, 17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0 || s[4] != '-' ||
      s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':') {
    return Error(BadTime(field, "not of the form YYYY-MM-DDTHH:MM:SS"));
  }
  if (year < 1970) return Error(BadTime(field, "the year is before 1970"));
  if (month < 1 || month > 12) return Error(BadTime(field, "the month is out of range"));
  if (day < 1 || day > DaysInMonth(year, static_cast<int>(month))) {
    return Error(BadTime(field, "the day is out of range"));
  }
  if (hour > 23 || minute > 59 || second > 59) {
    return Error(BadTime(field, "the time of day is out of range"));
  }
  size_t pos = 19;
  int64_t micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const size_t first = pos;
    int64_t scale = 100'000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      micros += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == first || pos - first > 9) return Error(BadTime(field, "1 to 9 fractional digits"));
  }
  int64_t offset_s = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const int64_t oh = Digits(s, pos + 1, 2), om = Digits(s, pos + 4, 2);
    if (oh < 0 || om < 0 || s[pos + 3] != ':' || oh > 23 || om > 59) {
      return Error(BadTime(field, "a bad UTC offset"));
    }
    offset_s = (s[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    pos += 6;
  } else {
    return Error(BadTime(field, "a time zone (Z or +HH:MM) is required"));
  }
  if (pos != s.size()) return Error(BadTime(field, "trailing characters"));
  const int64_t days = DaysFromCivil(year, static_cast<int>(month), static_cast<int>(day));
  const int64_t unix_s = days * 86'400 + hour * 3600 + minute * 60 + second - offset_s;
  const int64_t unix_us = unix_s * 1'000'000 + micros;
  if (unix_us < 0 || unix_us > kMaxUnixUs) {
    return Error(BadTime(field, "outside 1970..9999 in UTC"));
  }
  return unix_us;
}

}  // namespace cmdq::protocol
