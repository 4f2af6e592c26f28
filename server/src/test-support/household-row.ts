import { HOUSEHOLD_COLUMNS, type HouseholdColumnKey } from '@heat-butler/shared';

export type HouseholdValues = Record<HouseholdColumnKey | 'arrears', string>;

/**
 * One row of the household import sheet, in its column order (HOUSEHOLD_COLUMNS, then the
 * arrears column): a test's values for a new household, with overrides by column key.
 */
export function householdRow(values: HouseholdValues, over: Partial<Record<string, string>> = {}): string[] {
  const v: Record<string, string | undefined> = { ...values, ...over };
  return [...HOUSEHOLD_COLUMNS.map((c) => v[c.key]!), v.arrears!];
}
