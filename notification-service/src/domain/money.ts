// Money in words for emails: integer minor units shown with the currency's own number of decimals.
import type { Money } from '@ridehail/shared';

// Building an Intl.NumberFormat is costly (tens of µs): one per currency is enough.
const fractionDigits = new Map<string, number>();

function digitsOf(currency: string): number {
  let digits = fractionDigits.get(currency);
  if (digits === undefined) {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    fractionDigits.set(currency, digits);
  }
  return digits;
}

export function formatMoney(money: Money): string {
  const digits = digitsOf(money.currency);
  return `${(money.amount / 10 ** digits).toFixed(digits)} ${money.currency}`;
}
