module mcplambda

go 1.26
