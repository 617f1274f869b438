/** Vtiger 8's stock picklist values, shared by several modules. */
export const LEAD_SOURCES = [
  'Cold Call',
  'Existing Customer',
  'Self Generated',
  'Employee',
  'Partner',
  'Public Relations',
  'Direct Mail',
  'Conference',
  'Trade Show',
  'Web Site',
  'Word of mouth',
  'Other',
] as const;

export const INDUSTRIES = [
  'Apparel',
  'Banking',
  'Biotechnology',
  'Chemicals',
  'Communications',
  'Construction',
  'Consulting',
  'Education',
  'Electronics',
  'Energy',
  'Engineering',
  'Entertainment',
  'Environmental',
  'Finance',
  'Food & Beverage',
  'Government',
  'Healthcare',
  'Hospitality',
  'Insurance',
  'Machinery',
  'Manufacturing',
  'Media',
  'Not For Profit',
  'Recreation',
  'Retail',
  'Shipping',
  'Technology',
  'Telecommunications',
  'Transportation',
  'Utilities',
  'Other',
] as const;

export const RATINGS = ['Acquired', 'Active', 'Market Failed', 'Project Cancelled', 'Shutdown'] as const;

/** Vtiger's address block: bill_/ship_ for organizations and quotes. */
export const ADDRESS_PARTS = [
  ['street', 'Street'],
  ['city', 'City'],
  ['state', 'State'],
  ['code', 'Postal Code'],
  ['country', 'Country'],
  ['pobox', 'PO Box'],
] as const;
