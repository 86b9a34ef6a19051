-- The same schema after the next release: a segment column, a stricter foreign key,
-- a reporting view, and an index for it.
CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  segment TEXT
);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  total NUMERIC NOT NULL DEFAULT 0 CHECK (total >= 0),
  placed_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX orders_customer ON orders (customer_id);
CREATE INDEX orders_placed ON orders (placed_at) WHERE total > 100;
CREATE VIEW big_orders AS SELECT id, customer_id, total FROM orders WHERE total > 100;
