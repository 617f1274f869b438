/** The master key's check value (one row, id 1): see `master-key-check.ts`. */
export interface MasterKeyCheckTable {
  id: number;
  check_value: string;
  created_at: number;
}
