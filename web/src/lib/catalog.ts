// The catalog's filters as the api's query.

export interface CatalogFilters {
  q: string;
  category: string;
  /** The child's age: books whose range includes it. */
  age: string;
}

/** The catalog query for the chosen filters (empty ones left out). */
export function catalogQuery(f: CatalogFilters): Record<string, string> {
  return {
    ...(f.q ? { q: f.q } : {}),
    ...(f.category ? { category: f.category } : {}),
    ...(f.age ? { ageMin: f.age, ageMax: f.age } : {}),
  };
}
