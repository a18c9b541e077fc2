/**
 * `new Date(ms).toISOString()` without a Date. V8 works out the machine's local time offset the
 * first time a Date is broken down into fields, even for toISOString (UTC): that loads ICU's
 * time zone data, resident memory the master keeps (DEVELOPERS.md, "Start-up"). A master
 * without --stats (an http server, which writes a Date header) and scheduled jobs (node-cron
 * makes Dates) makes no Date but for its log timestamps: they are formatted here, with integer
 * arithmetic (the proleptic Gregorian calendar, as Date uses: Howard Hinnant's days-to-civil
 * algorithm). Workers and the router use it too, though Node's http server loads the time zone
 * in them anyway.
 */
export function isoTimeUtc(ms: number): string {
  const t = Math.trunc(ms);
  const days = Math.floor(t / 86_400_000);
  const inDay = t - days * 86_400_000;
  // Days since 0000-03-01, in 400-year eras of 146097 days (March first: leap days fall last).
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  // Outside 0000-9999 (never a clock's time) Date writes a signed six-digit year: let it.
  if (!Number.isFinite(t) || year < 0 || year > 9999) return new Date(t).toISOString();
  const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);
  const h = Math.floor(inDay / 3_600_000);
  const m = Math.floor(inDay / 60_000) % 60;
  const s = Math.floor(inDay / 1000) % 60;
  const milli = inDay % 1000;
  return `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}T${two(h)}:${two(m)}:${two(s)}.${String(milli).padStart(3, '0')}Z`;
}
