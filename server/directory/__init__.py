"""The public directory of registered places (登録団体一覧)."""
