// The segments screen.

export async function showSegments() {}
