// PierAPI
