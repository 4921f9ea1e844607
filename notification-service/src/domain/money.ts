// Money in words for emails: integer minor units shown with the currency's own number of decimals.
import type { Money } from '@ridehail/shared';

export function formatMoney(money: Money): string {
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency: money.currency }).resolvedOptions().maximumFractionDigits ?? 2;
  return `${(money.amount / 10 ** digits).toFixed(digits)} ${money.currency}`;
}
