-- The seed's two demo accounts (dong / 111, guang / 222), for local use only: `npm run dev`,
-- `npm start` and the tests load this file. Never apply it to a deployed database.
INSERT OR IGNORE INTO users (id, username, display_name, password_hash) VALUES ('u_dong', 'dong', '东东', 'pbkdf2_sha256$100000$2lo7UALg1YCabB9iwB87LA$nKacCEIHlk7paHU8EIPTmdARlTkokzvBD8vHGu-jGDk');
INSERT OR IGNORE INTO users (id, username, display_name, password_hash) VALUES ('u_guang', 'guang', '光光', 'pbkdf2_sha256$100000$Vec9jK6KaP_nPGd_5ZxyfQ$GDJBtz47TvXXv8urzfh1bJspBp7H_3W99a2vHBZF4LI');
